package msgpack

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestOpenSendsTheReferenceUpgrade(t *testing.T) {
	got := make(chan *http.Request, 1)
	addr := fakeMaster(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		got <- r
		_, _, _ = c.Read(ctx)
	})
	s, err := open(t, addr, Options{Name: "wörker", Password: "pa:ss wörd", Path: "mp"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := <-got
	if r.Method != "GET" || r.URL.Path != "/mp" || r.Host != addr {
		t.Errorf("request %s %s Host %s", r.Method, r.URL, r.Host)
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != "wörker" || pass != "pa:ss wörd" {
		t.Errorf("basic auth %q %q %v (header %q)", user, pass, ok, r.Header.Get("Authorization"))
	}
	for _, h := range []string{"Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions", "Origin"} {
		if v := r.Header.Get(h); v != "" {
			t.Errorf("%s: %q, the reference sends none", h, v)
		}
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" || !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		t.Errorf("headers %v", r.Header)
	}
}

// TestOpenCapturedRefusal replays the 3.7 master's literal answer to a wrong
// password (msgpack_badpw capture) and expects the typed refusal.
func TestOpenCapturedRefusal(t *testing.T) {
	addr := statusMaster(t, string(readDump(t, "msgpack_badpw.master_to_worker.hex")))
	_, err := open(t, addr, Options{Name: "w1", Password: "s3cretX"})
	var lr *LoginRefusedError
	if !errors.As(err, &lr) || lr.Name != "w1" || !errors.Is(err, ErrLoginRefused) {
		t.Fatalf("got %v, want a *LoginRefusedError", err)
	}
	if strings.Contains(err.Error(), "s3cretX") {
		t.Errorf("the error shows the password: %v", err)
	}
}

func TestOpenOtherStatuses(t *testing.T) {
	for status, answer := range map[int]string{
		400: "HTTP/1.1 400 Bad request\r\n\r\n",
		404: "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
		302: "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/\r\nContent-Length: 0\r\n\r\n",
		200: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
	} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			_, err := open(t, statusMaster(t, answer), Options{})
			var he *HandshakeError
			if !errors.As(err, &he) || he.Status != status || errors.Is(err, ErrLoginRefused) {
				t.Fatalf("got %v, want a *HandshakeError with status %d", err, status)
			}
			if !strings.Contains(err.Error(), fmt.Sprint(status)) {
				t.Errorf("error does not say the status: %v", err)
			}
		})
	}
	t.Run("bad accept key", func(t *testing.T) {
		_, err := open(t, statusMaster(t, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n"), Options{})
		var he *HandshakeError
		if !errors.As(err, &he) || he.Status != 101 || he.Err == nil {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		_, err := open(t, statusMaster(t, "SSH-2.0-OpenSSH\r\n"), Options{})
		var he *HandshakeError
		if !errors.As(err, &he) || he.Status != 0 {
			t.Fatalf("got %v", err)
		}
	})
}

func TestOpenBoundedByContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	addr := rawMaster(t, func(net.Conn, *bufio.Reader, *http.Request) { <-release }, false)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Open(ctx, conn, Options{Name: "w1", Password: "p"})
	var he *HandshakeError
	if !errors.As(err, &he) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Open took %v past its deadline", d)
	}
	if _, err := conn.Write([]byte("x")); err == nil {
		t.Error("the connection was left open")
	}
}

func TestOpenRefusesColonInName(t *testing.T) {
	c1, c2 := net.Pipe()
	defer c2.Close()
	if _, err := Open(context.Background(), c1, Options{Name: "a:b"}); err == nil || !strings.Contains(err.Error(), "':'") {
		t.Fatalf("got %v", err)
	}
}

// TestSessionOutlivesOpenContext: the handshake's ctx bounds only the
// handshake.
func TestSessionOutlivesOpenContext(t *testing.T) {
	addr := fakeMaster(t, func(ctx context.Context, c *websocket.Conn, _ *http.Request) {
		m, err := recv(ctx, c)
		if err != nil {
			return
		}
		seq, _ := m.Int("seq_number")
		send(ctx, t, c, Map{{"op", "response"}, {"seq_number", seq}, {"result", "pong"}})
		_, _, _ = c.Read(ctx)
	})
	conn, _ := net.Dial("tcp", addr)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Open(ctx, conn, Options{Name: "w1"})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(context.Background(), nopHandler) }()
	defer s.Close()
	time.Sleep(50 * time.Millisecond)
	cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer ccancel()
	if res, err := s.Call(cctx, "update", nil); err != nil || res != "pong" {
		t.Fatalf("call after the Open ctx ended: %v %v", res, err)
	}
}

// TestMasterRequests: requests reach the handler in order with their
// fields, results and errors are answered as the master expects, and an
// unknown op gets the reference's text.
func TestMasterRequests(t *testing.T) {
	answers := make(chan []Map, 1)
	addr := fakeMaster(t, func(ctx context.Context, c *websocket.Conn, _ *http.Request) {
		send(ctx, t, c, Map{{"op", "print"}, {"message", "attached"}, {"seq_number", 0}})
		send(ctx, t, c, Map{{"op", "get_worker_info"}, {"seq_number", 1}})
		send(ctx, t, c, Map{{"op", "start_command"}, {"command_id", "7"}, {"command_name", "nosuch"}, {"args", Map{}}, {"seq_number", 2}})
		send(ctx, t, c, Map{{"op", "frobnicate"}, {"seq_number", 3}})
		var got []Map
		for range 4 {
			m, err := recv(ctx, c)
			if err != nil {
				t.Error(err)
				return
			}
			got = append(got, m)
		}
		answers <- got
		_, _, _ = c.Read(ctx)
	})
	var mu sync.Mutex
	var seen []string
	serving(t, addr, Options{}, HandlerFunc(func(ctx context.Context, r *Request) (any, error) {
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%s/%d/%v", r.Op, r.Seq, r.Fields.ToGo()))
		mu.Unlock()
		switch r.Op {
		case "print":
			return nil, nil
		case "get_worker_info":
			return Map{{"basedir", "/b"}, {"numcpus", 2}}, nil
		case "start_command":
			name, _ := r.Fields.String("command_name")
			return nil, fmt.Errorf("unrecognized WorkerCommand '%s'", name)
		}
		return nil, fmt.Errorf("wrapped: %w", ErrUnknownOp)
	}))
	var got []Map
	select {
	case got = <-answers:
	case <-time.After(5 * time.Second):
		t.Fatal("no answers")
	}
	want := []Map{
		{{"op", "response"}, {"seq_number", int64(0)}, {"result", nil}},
		{{"op", "response"}, {"seq_number", int64(1)}, {"result", Map{{"basedir", "/b"}, {"numcpus", int64(2)}}}},
		{{"op", "response"}, {"seq_number", int64(2)}, {"result", "unrecognized WorkerCommand 'nosuch'"}, {"is_exception", true}},
		{{"op", "response"}, {"seq_number", int64(3)}, {"result", "Command frobnicate does not exist."}, {"is_exception", true}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("answers\n got %v\nwant %v", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	wantSeen := []string{"print/0/map[message:attached]", "get_worker_info/1/map[]",
		"start_command/2/map[args:map[] command_id:7 command_name:nosuch]", "frobnicate/3/map[]"}
	if !reflect.DeepEqual(seen, wantSeen) {
		t.Errorf("handler saw %v", seen)
	}
}

// TestBadInputFromMasterIsDropped: text frames, undecodable bytes, maps
// without op or seq_number and stray responses are dropped; the session
// stays up and serves the next request.
func TestBadInputFromMasterIsDropped(t *testing.T) {
	answered := make(chan Map, 1)
	addr := fakeMaster(t, func(ctx context.Context, c *websocket.Conn, _ *http.Request) {
		_ = c.Write(ctx, websocket.MessageText, []byte("hello"))
		_ = c.Write(ctx, websocket.MessageBinary, []byte{0xc1, 0x00})
		_ = c.Write(ctx, websocket.MessageBinary, []byte{0x81, 0xa1, 0x61, 0xa1, 0xff})
		send(ctx, t, c, Map{{"op", "print"}})
		send(ctx, t, c, Map{{"seq_number", 1}})
		send(ctx, t, c, Map{{"op", "response"}, {"seq_number", 99}, {"result", nil}})
		send(ctx, t, c, Map{{"op", "keepalive"}, {"seq_number", 5}})
		m, err := recv(ctx, c)
		if err == nil {
			answered <- m
		}
		_, _, _ = c.Read(ctx)
	})
	var ops []string
	var mu sync.Mutex
	serving(t, addr, Options{}, HandlerFunc(func(_ context.Context, r *Request) (any, error) {
		mu.Lock()
		ops = append(ops, r.Op)
		mu.Unlock()
		return nil, nil
	}))
	select {
	case m := <-answered:
		if seq, _ := m.Int("seq_number"); seq != 5 {
			t.Errorf("answer %v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the session did not survive bad input")
	}
	mu.Lock()
	defer mu.Unlock()
	if !reflect.DeepEqual(ops, []string{"keepalive"}) {
		t.Errorf("handler saw %v", ops)
	}
}

// TestPipelinedOutOfOrder: the worker sends several requests without
// waiting, numbered from 0 and in order on the wire; the master answers them
// in reverse order, one with is_exception; each caller gets its own answer.
func TestPipelinedOutOfOrder(t *testing.T) {
	const n = 5
	addr := fakeMaster(t, func(ctx context.Context, c *websocket.Conn, _ *http.Request) {
		var reqs []Map
		for range n {
			m, err := recv(ctx, c)
			if err != nil {
				t.Error(err)
				return
			}
			reqs = append(reqs, m)
		}
		for i := n - 1; i >= 0; i-- {
			seq, _ := reqs[i].Int("seq_number")
			if seq != int64(i) {
				t.Errorf("request %d on the wire has seq_number %d", i, seq)
			}
			id, _ := reqs[i].String("command_id")
			if i == 2 {
				send(ctx, t, c, Map{{"op", "response"}, {"seq_number", seq}, {"result", "no such command " + id}, {"is_exception", true}})
				continue
			}
			send(ctx, t, c, Map{{"op", "response"}, {"seq_number", seq}, {"result", "ok " + id}})
		}
		_, _, _ = c.Read(ctx)
	})
	s, _ := serving(t, addr, Options{}, nopHandler)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var pend []*Pending
	for i := range n {
		p, err := s.Send(ctx, "update", Map{{"args", nil}, {"command_id", fmt.Sprint(i)}})
		if err != nil {
			t.Fatal(err)
		}
		if p.Seq != int64(i) {
			t.Errorf("Send %d got seq %d", i, p.Seq)
		}
		pend = append(pend, p)
	}
	for i, p := range pend {
		res, err := p.Wait(ctx)
		if i == 2 {
			var re *RemoteError
			if !errors.As(err, &re) || re.Text != "no such command 2" || re.Seq != 2 || re.Op != "update" {
				t.Errorf("call 2: %v %v", res, err)
			}
			continue
		}
		if err != nil || res != fmt.Sprintf("ok %d", i) {
			t.Errorf("call %d: %v %v", i, res, err)
		}
	}
}

// TestWindowBoundsOutstandingRequests: with a window of 2, a third Send
// waits until the master answers one of the first two.
func TestWindowBoundsOutstandingRequests(t *testing.T) {
	answer := make(chan struct{})
	addr := fakeMaster(t, func(ctx context.Context, c *websocket.Conn, _ *http.Request) {
		m, err := recv(ctx, c)
		if err != nil {
			return
		}
		if _, err := recv(ctx, c); err != nil {
			return
		}
		<-answer
		seq, _ := m.Int("seq_number")
		send(ctx, t, c, Map{{"op", "response"}, {"seq_number", seq}, {"result", nil}})
		m3, err := recv(ctx, c)
		if err == nil {
			if seq, _ := m3.Int("seq_number"); seq != 2 {
				t.Errorf("third request has seq %d", seq)
			}
		}
		_, _, _ = c.Read(ctx)
	})
	s, _ := serving(t, addr, Options{Window: 2}, nopHandler)
	bg := context.Background()
	for range 2 {
		if _, err := s.Send(bg, "update", nil); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(bg, 150*time.Millisecond)
	defer cancel()
	if _, err := s.Send(short, "update", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third Send with a full window: %v", err)
	}
	close(answer)
	ctx, cancel2 := context.WithTimeout(bg, 5*time.Second)
	defer cancel2()
	if p, err := s.Send(ctx, "update", nil); err != nil || p.Seq != 2 {
		t.Fatalf("Send after a slot freed: %v %v", p, err)
	}
}

// TestConnectionLostFailsPending: when the master drops the connection,
// every waiting call fails with ErrConnectionLost, Serve says so, and later
// calls fail at once.
func TestConnectionLostFailsPending(t *testing.T) {
	addr := fakeMaster(t, func(ctx context.Context, c *websocket.Conn, _ *http.Request) {
		for range 3 {
			if _, err := recv(ctx, c); err != nil {
				return
			}
		}
	})
	s, served := serving(t, addr, Options{}, nopHandler)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var pend []*Pending
	for range 3 {
		p, err := s.Send(ctx, "update_upload_file_write", Map{{"args", []byte("data")}, {"command_id", "1"}})
		if err != nil {
			t.Fatal(err)
		}
		pend = append(pend, p)
	}
	for _, p := range pend {
		if _, err := p.Wait(ctx); !errors.Is(err, ErrConnectionLost) {
			t.Errorf("pending call: %v", err)
		}
	}
	select {
	case err := <-served:
		if !errors.Is(err, ErrConnectionLost) {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	if _, err := s.Call(ctx, "complete", nil); !errors.Is(err, ErrConnectionLost) {
		t.Errorf("call after the end: %v", err)
	}
	<-s.Done()
}

func TestCloseFailsPendingWithErrClosed(t *testing.T) {
	addr := fakeMaster(t, func(ctx context.Context, c *websocket.Conn, _ *http.Request) {
		for {
			if _, _, err := c.Read(ctx); err != nil {
				return
			}
		}
	})
	s, err := open(t, addr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(context.Background(), nopHandler) }()
	ctx := context.Background()
	p, err := s.Send(ctx, "update", nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	if _, err := p.Wait(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("pending after Close: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve after Close: %v", err)
	}
	if _, err := s.Send(ctx, "update", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
	s.Close()
}

// TestServeContextEndsSession: cancelling Serve's ctx closes the session and
// the handler's ctx.
func TestServeContextEndsSession(t *testing.T) {
	addr := fakeMaster(t, func(ctx context.Context, c *websocket.Conn, _ *http.Request) {
		send(ctx, t, c, Map{{"op", "start_command"}, {"seq_number", 0}})
		_, _, _ = c.Read(ctx)
	})
	s, err := open(t, addr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	inHandler := make(chan struct{})
	handlerDone := make(chan error, 1)
	served := make(chan error, 1)
	go func() {
		served <- s.Serve(ctx, HandlerFunc(func(hctx context.Context, _ *Request) (any, error) {
			close(inHandler)
			<-hctx.Done()
			handlerDone <- hctx.Err()
			return nil, nil
		}))
	}()
	<-inHandler
	cancel()
	select {
	case err := <-served:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	if err := <-handlerDone; err == nil {
		t.Error("handler ctx not ended")
	}
	if !errors.Is(s.Err(), ErrClosed) {
		t.Errorf("session end: %v", s.Err())
	}
}

// TestHandlerMayCallTheMaster: a handler that sends a request and waits
// (interrupt_command flushes output first) does not stop the reader.
func TestHandlerMayCallTheMaster(t *testing.T) {
	answered := make(chan Map, 1)
	addr := fakeMaster(t, func(ctx context.Context, c *websocket.Conn, _ *http.Request) {
		send(ctx, t, c, Map{{"op", "interrupt_command"}, {"command_id", "3"}, {"why", "stop"}, {"seq_number", 9}})
		m, err := recv(ctx, c)
		if err != nil {
			return
		}
		if op, _ := m.String("op"); op != "update" {
			t.Errorf("first from worker: %v", m)
		}
		seq, _ := m.Int("seq_number")
		send(ctx, t, c, Map{{"op", "response"}, {"seq_number", seq}, {"result", nil}})
		if m, err = recv(ctx, c); err == nil {
			answered <- m
		}
		_, _, _ = c.Read(ctx)
	})
	var s *Session
	ready := make(chan struct{})
	s, _ = serving(t, addr, Options{}, HandlerFunc(func(ctx context.Context, r *Request) (any, error) {
		<-ready
		_, err := s.Call(ctx, "update", Map{{"args", []any{[]any{"stdout", []any{"x\n", []any{1}, []any{1.5}}}}}, {"command_id", "3"}})
		return nil, err
	}))
	close(ready)
	select {
	case m := <-answered:
		if seq, _ := m.Int("seq_number"); seq != 9 || m.Has("is_exception") {
			t.Errorf("answer %v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler waiting for the master blocked the session")
	}
}

// TestSendWritesTheReferenceBytes: Send lays a request out as the reference
// worker does; the bytes the master receives are the captured ones.
func TestSendWritesTheReferenceBytes(t *testing.T) {
	w2m := captureMessages(t, "msgpack_main.worker_to_master.hex")
	_, frames := splitCapture(t, readDump(t, "msgpack_main.worker_to_master.hex"))
	var idx []int
	for i, m := range w2m {
		if op, _ := m.String("op"); op != "response" {
			idx = append(idx, i)
		}
	}
	got := make(chan []byte, len(idx))
	addr := fakeMaster(t, func(ctx context.Context, c *websocket.Conn, _ *http.Request) {
		for range idx {
			_, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			got <- b
			m, _ := Decode(b, Limits{})
			seq, _ := m.Int("seq_number")
			send(ctx, t, c, Map{{"op", "response"}, {"seq_number", seq}, {"result", nil}})
		}
		_, _, _ = c.Read(ctx)
	})
	s, _ := serving(t, addr, Options{}, nopHandler)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, i := range idx {
		m := w2m[i]
		op, _ := m.String("op")
		var fields Map
		for _, p := range m {
			if p.Key != "op" && p.Key != "seq_number" {
				fields = append(fields, p)
			}
		}
		if _, err := s.Call(ctx, op, fields); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		if b := <-got; !bytes.Equal(b, frames[i].payload) {
			t.Fatalf("%s (frame %d): wrote %x\nreference %x", op, i, b, frames[i].payload)
		}
	}
	t.Logf("%d worker requests written byte for byte as the reference", len(idx))
}

// TestReplayCapturedMaster plays the 3.7 master's captured frames to a
// session: every request reaches the handler, in the captured order.
func TestReplayCapturedMaster(t *testing.T) {
	_, frames := splitCapture(t, readDump(t, "msgpack_main.master_to_worker.hex"))
	var want []string
	for _, m := range captureMessages(t, "msgpack_main.master_to_worker.hex") {
		if op, _ := m.String("op"); op != "response" {
			want = append(want, op)
		}
	}
	addr := rawMaster(t, func(conn net.Conn, br *bufio.Reader, _ *http.Request) {
		go func() { _, _ = io.Copy(io.Discard, br) }()
		for _, f := range frames {
			_, _ = conn.Write(f.raw)
		}
		time.Sleep(200 * time.Millisecond)
	}, true)
	var mu sync.Mutex
	var got []string
	s, err := open(t, addr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Serve(context.Background(), HandlerFunc(func(_ context.Context, r *Request) (any, error) {
		mu.Lock()
		got = append(got, r.Op)
		mu.Unlock()
		return nil, nil
	}))
	if !errors.Is(err, ErrConnectionLost) {
		t.Errorf("Serve: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("handler saw %v\nwant %v", got, want)
	}
	t.Logf("%d captured master requests served", len(got))
}

func TestPing(t *testing.T) {
	t.Run("answered", func(t *testing.T) {
		addr := fakeMaster(t, func(ctx context.Context, c *websocket.Conn, _ *http.Request) { _, _, _ = c.Read(ctx) })
		s, _ := serving(t, addr, Options{}, nopHandler)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for range 3 {
			if err := s.Ping(ctx); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("half-open", func(t *testing.T) {
		// A master that reads but never answers: what a silenced peer looks like.
		addr := rawMaster(t, func(conn net.Conn, br *bufio.Reader, _ *http.Request) {
			_, _ = io.Copy(io.Discard, br)
		}, true)
		s, served := serving(t, addr, Options{}, nopHandler)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		if err := s.Ping(ctx); !errors.Is(err, ErrConnectionLost) {
			t.Fatalf("Ping: %v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Ping returned after %v", d)
		}
		select {
		case err := <-served:
			if !errors.Is(err, ErrConnectionLost) {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Serve still running after an unanswered ping")
		}
	})
}

// TestHandlerFailuresAreAnswered: a handler that panics or returns a result
// that cannot go on the wire still gets the master an is_exception answer,
// and the session stays up.
func TestHandlerFailuresAreAnswered(t *testing.T) {
	answers := make(chan []Map, 1)
	addr := fakeMaster(t, func(ctx context.Context, c *websocket.Conn, _ *http.Request) {
		send(ctx, t, c, Map{{"op", "get_worker_info"}, {"seq_number", 0}})
		send(ctx, t, c, Map{{"op", "print"}, {"message", "boom"}, {"seq_number", 1}})
		send(ctx, t, c, Map{{"op", "keepalive"}, {"seq_number", 2}})
		var got []Map
		for range 3 {
			m, err := recv(ctx, c)
			if err != nil {
				t.Error(err)
				return
			}
			got = append(got, m)
		}
		answers <- got
		_, _, _ = c.Read(ctx)
	})
	serving(t, addr, Options{}, HandlerFunc(func(_ context.Context, r *Request) (any, error) {
		switch r.Op {
		case "get_worker_info":
			return Map{{"host", "bad\xffutf8"}}, nil
		case "print":
			panic("handler bug")
		}
		return nil, nil
	}))
	var got []Map
	select {
	case got = <-answers:
	case <-time.After(5 * time.Second):
		t.Fatal("no answers")
	}
	for i, m := range got[:2] {
		text, _ := m.String("result")
		if !m.Has("is_exception") || text == "" {
			t.Errorf("answer %d: %v", i, m)
		}
		t.Logf("answer %d: %s", i, text)
	}
	if got[2].Has("is_exception") {
		t.Errorf("keepalive after the failures: %v", got[2])
	}
}

// TestUpgradeHasTheReferenceHeaders compares our upgrade request with the
// reference worker's captured one (msgpack_badpw): the same header fields,
// and the same Authorization for the same credentials.
func TestUpgradeHasTheReferenceHeaders(t *testing.T) {
	ref, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(readDump(t, "msgpack_badpw.worker_to_master.hex"))))
	if err != nil {
		t.Fatal(err)
	}
	refUser, refPass, _ := ref.BasicAuth()
	got := make(chan *http.Request, 1)
	addr := rawMaster(t, func(_ net.Conn, _ *bufio.Reader, r *http.Request) { got <- r }, false)
	_, _ = open(t, addr, Options{Name: refUser, Password: refPass})
	ours := <-got
	names := func(h http.Header) []string {
		var out []string
		for k := range h {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	if a, b := names(ours.Header), names(ref.Header); !reflect.DeepEqual(a, b) {
		t.Errorf("header fields\n ours %v\n  ref %v", a, b)
	}
	if a, b := ours.Header.Get("Authorization"), ref.Header.Get("Authorization"); a != b {
		t.Errorf("Authorization %q, reference %q", a, b)
	}
	if ours.URL.Path != ref.URL.Path || ours.Method != ref.Method || ours.Proto != ref.Proto {
		t.Errorf("request line %s %s %s, reference %s %s %s", ours.Method, ours.URL, ours.Proto, ref.Method, ref.URL, ref.Proto)
	}
}

func TestMasterCloseFrameIsTyped(t *testing.T) {
	addr := fakeMaster(t, func(ctx context.Context, c *websocket.Conn, _ *http.Request) {
		c.Close(websocket.StatusPolicyViolation, "duplicate")
	})
	s, err := open(t, addr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Serve(context.Background(), nopHandler)
	var pc *PeerClosedError
	if !errors.As(err, &pc) || pc.Code != 1008 || pc.Reason != "duplicate" || !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("Serve: %v", err)
	}
}

// TestNoGoroutinesLeftBehind: a reconnecting agent opens many sessions;
// a refused login and a closed session must leave nothing running.
func TestNoGoroutinesLeftBehind(t *testing.T) {
	addr := fakeMaster(t, func(ctx context.Context, c *websocket.Conn, _ *http.Request) {
		send(ctx, t, c, Map{{"op", "print"}, {"message", "attached"}, {"seq_number", 0}})
		for {
			if _, _, err := c.Read(ctx); err != nil {
				return
			}
		}
	})
	refuse := statusMaster(t, "HTTP/1.1 401 Unauthorized\r\n\r\n")
	round := func() {
		if _, err := open(t, refuse, Options{}); !errors.Is(err, ErrLoginRefused) {
			t.Fatal(err)
		}
		s, err := open(t, addr, Options{})
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- s.Serve(context.Background(), nopHandler) }()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		s.Close()
		<-served //nolint:errcheck // only its end matters here
	}
	round()
	time.Sleep(100 * time.Millisecond)
	before := runtime.NumGoroutine()
	for range 20 {
		round()
	}
	var after int
	for range 50 {
		time.Sleep(20 * time.Millisecond)
		if after = runtime.NumGoroutine(); after <= before+2 {
			return
		}
	}
	buf := make([]byte, 1<<16)
	t.Fatalf("%d goroutines before 20 sessions, %d after\n%s", before, after, buf[:runtime.Stack(buf, true)])
}
