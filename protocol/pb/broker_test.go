package pb

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/buildslave/buildslave/protocol/banana"
	"github.com/buildslave/buildslave/protocol/jelly"
)

// fakeMaster is the server end of a PB connection over a real loopback
// socket, scripted by the test one expression at a time.
type fakeMaster struct {
	t    *testing.T
	conn net.Conn
	dec  *banana.Decoder
}

func (m *fakeMaster) send(expr any, vocab bool) {
	m.t.Helper()
	data, err := banana.Encode(expr, vocab)
	if err != nil {
		m.t.Fatalf("encoding %v: %v", expr, err)
	}
	if _, err := m.conn.Write(data); err != nil {
		m.t.Fatalf("writing: %v", err)
	}
}

func (m *fakeMaster) recv() any {
	m.t.Helper()
	m.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	v, err := m.dec.Decode()
	if err != nil {
		m.t.Fatalf("reading: %v", err)
	}
	return v
}

// recvMsg reads a PB message and unjellies its payload fields.
func (m *fakeMaster) recvMsg() []any {
	m.t.Helper()
	msg, ok := m.recv().([]any)
	if !ok || len(msg) == 0 {
		m.t.Fatalf("not a message: %v", msg)
	}
	out := append([]any(nil), msg...)
	var payload []int
	switch string(msg[0].([]byte)) {
	case "message":
		payload = []int{5, 6}
	case "answer", "error":
		payload = []int{2}
	}
	for _, i := range payload {
		v, err := jelly.Unjelly(msg[i])
		if err != nil {
			m.t.Fatalf("unjelly %v: %v", msg[i], err)
		}
		out[i] = v
	}
	return out
}

func (m *fakeMaster) jelly(v any) any {
	m.t.Helper()
	j, err := jelly.Jelly(v)
	if err != nil {
		m.t.Fatalf("jelly %v: %v", v, err)
	}
	return j
}

func (m *fakeMaster) call(reqID int64, objectID int64, method string, args jelly.Tuple, kwargs *jelly.Dict) {
	m.t.Helper()
	if kwargs == nil {
		kwargs = &jelly.Dict{}
	}
	m.send([]any{[]byte("message"), reqID, objectID, []byte(method), int64(1), m.jelly(args), m.jelly(kwargs)}, true)
}

func name(msg []any) string { return string(msg[0].([]byte)) }

// startPair returns a connected fake master and the client's raw socket.
func startPair(t *testing.T) (*fakeMaster, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return &fakeMaster{t: t, conn: server, dec: banana.NewDecoder(server)}, client
}

// handshake plays the server's side of dialect and version negotiation.
func (m *fakeMaster) handshake() {
	m.t.Helper()
	m.send([]any{[]byte("pb"), []byte("none")}, false)
	if got := m.recv(); !bytes.Equal(got.([]byte), []byte("pb")) {
		m.t.Fatalf("dialect choice = %v", got)
	}
	m.dec.SetVocabulary(true)
	if got := m.recv().([]any); name(got) != "version" || got[1] != int64(6) {
		m.t.Fatalf("version = %v", got)
	}
	m.send([]any{[]byte("version"), int64(6)}, true)
}

// recorder is a local object that records calls and answers from a table.
type recorder struct {
	calls chan string
}

func (r *recorder) RemoteCall(ctx context.Context, method string, args []any, kwargs *jelly.Dict) (any, error) {
	r.calls <- method
	switch method {
	case "print":
		return nil, nil
	case "echo":
		return jelly.Tuple(args), nil
	}
	return nil, NoSuchMethod(method)
}

func openClient(t *testing.T, m *fakeMaster, conn net.Conn) *Broker {
	t.Helper()
	type opened struct {
		b   *Broker
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		b, err := Open(context.Background(), conn, slog.New(slog.DiscardHandler))
		ch <- opened{b, err}
	}()
	m.handshake()
	o := <-ch
	if o.err != nil {
		t.Fatalf("Open: %v", o.err)
	}
	t.Cleanup(func() { o.b.Close() })
	return o.b
}

func TestLoginServesCallsWhileRespondIsPending(t *testing.T) {
	m, conn := startPair(t)
	b := openClient(t, m, conn)
	mind := &recorder{calls: make(chan string, 10)}

	type loginResult struct {
		p   *RemoteReference
		err error
	}
	done := make(chan loginResult, 1)
	go func() {
		p, err := b.Login(context.Background(), []byte("w1"), []byte("pass1"), mind)
		done <- loginResult{p, err}
	}()

	login := m.recvMsg()
	if name(login) != "message" || !bytes.Equal(login[2].([]byte), []byte("root")) || string(login[3].([]byte)) != "login" {
		t.Fatalf("first call = %v", login)
	}
	if args := login[5].(jelly.Tuple); !bytes.Equal(args[0].([]byte), []byte("w1")) {
		t.Fatalf("login name = %v, want bytes w1", args[0])
	}
	challenge := []byte("0123456789abcdef")
	m.send([]any{[]byte("answer"), login[1], m.jelly(jelly.Tuple{challenge, jelly.Remote{LUID: 1}})}, true)

	respond := m.recvMsg()
	if string(respond[3].([]byte)) != "respond" || respond[2] != int64(1) {
		t.Fatalf("second call = %v", respond)
	}
	args := respond[5].(jelly.Tuple)
	if want := ChallengeResponse([]byte("pass1"), challenge); !bytes.Equal(args[0].([]byte), want) {
		t.Errorf("response = %x, want %x", args[0], want)
	}
	mindRef, ok := args[1].(jelly.Remote)
	if !ok {
		t.Fatalf("mind = %#v, want a remote reference", args[1])
	}
	if got := m.recvMsg(); name(got) != "decref" || got[1] != int64(1) {
		t.Errorf("after respond: %v, want the challenger's decref", got)
	}

	// The master calls the mind before it answers respond.
	m.call(1, mindRef.LUID, "print", jelly.Tuple{}, jelly.NewDict("message", "attached"))
	if got := m.recvMsg(); name(got) != "answer" || got[1] != int64(1) || got[2] != nil {
		t.Errorf("answer to print = %v", got)
	}
	m.call(2, mindRef.LUID, "nosuch", jelly.Tuple{}, nil)
	got := m.recvMsg()
	f, ok := got[2].(*jelly.Failure)
	if name(got) != "error" || !ok || !f.Check(TypeNoSuchMethod) || f.Value != "No such method: remote_nosuch" {
		t.Errorf("answer to nosuch = %#v", got)
	}
	m.call(3, 99, "print", jelly.Tuple{}, nil)
	got = m.recvMsg()
	if f, ok := got[2].(*jelly.Failure); name(got) != "error" || !ok || f.Value != "Invalid Object ID" {
		t.Errorf("call on an unknown object = %#v", got)
	}

	m.send([]any{[]byte("answer"), respond[1], m.jelly(jelly.Remote{LUID: 2})}, true)
	res := <-done
	if res.err != nil {
		t.Fatalf("Login: %v", res.err)
	}
	if res.p.LUID() != 2 {
		t.Errorf("perspective luid = %d", res.p.LUID())
	}
	if <-mind.calls != "print" {
		t.Error("the mind did not see print first")
	}

	// A call on the perspective, answered out of band.
	callDone := make(chan error, 1)
	go func() {
		v, err := res.p.Call(context.Background(), "echo", "x", int64(3))
		if err == nil && v != nil {
			err = errors.New("unexpected value")
		}
		callDone <- err
	}()
	keep := m.recvMsg()
	if string(keep[3].([]byte)) != "echo" || keep[2] != int64(2) {
		t.Fatalf("call = %v", keep)
	}
	if a := keep[5].(jelly.Tuple); a[0] != "x" || a[1] != int64(3) {
		t.Errorf("echo args = %#v", a)
	}
	m.send([]any{[]byte("answer"), keep[1], m.jelly(nil)}, true)
	if err := <-callDone; err != nil {
		t.Errorf("call: %v", err)
	}

	// The master drops the mind: our table empties.
	if b.Exported() != 1 {
		t.Errorf("exported = %d before decref, want 1", b.Exported())
	}
	m.send([]any{[]byte("decref"), mindRef.LUID}, true)
	waitFor(t, func() bool { return b.Exported() == 0 })
}

func TestLoginRefused(t *testing.T) {
	m, conn := startPair(t)
	b := openClient(t, m, conn)
	done := make(chan error, 1)
	go func() {
		_, err := b.Login(context.Background(), []byte("w1"), []byte("wrong"), &recorder{calls: make(chan string, 10)})
		done <- err
	}()
	login := m.recvMsg()
	m.send([]any{[]byte("answer"), login[1], m.jelly(jelly.Tuple{[]byte("0123456789abcdef"), jelly.Remote{LUID: 1}})}, true)
	respond := m.recvMsg()
	m.recvMsg() // decref of the challenger
	m.send([]any{[]byte("decref"), int64(1)}, true)
	failure := NewFailure(TypeUnauthorizedLogin, "", "twisted.cred.error.LoginFailed", "twisted.cred.error.Unauthorized")
	m.send([]any{[]byte("error"), respond[1], m.jelly(failure)}, true)
	err := <-done
	if !IsUnauthorized(err) {
		t.Fatalf("Login error = %v, want unauthorized", err)
	}
	if bytes.Contains([]byte(err.Error()), []byte("wrong")) {
		t.Errorf("error %q reveals the password", err)
	}
}

func TestConnectionLossFailsPendingCalls(t *testing.T) {
	m, conn := startPair(t)
	b := openClient(t, m, conn)
	done := make(chan error, 1)
	go func() {
		_, err := b.Root(context.Background(), "login", []byte("w1"))
		done <- err
	}()
	m.recvMsg()
	m.conn.Close()
	if err := <-done; !errors.Is(err, ErrConnectionLost) {
		t.Errorf("pending call error = %v, want ErrConnectionLost", err)
	}
	select {
	case <-b.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("broker not done after the peer closed")
	}
}

func TestPeerProtocolErrorDropsConnection(t *testing.T) {
	m, conn := startPair(t)
	b := openClient(t, m, conn)
	// An answer to a request we never sent is fatal in Twisted too.
	m.send([]any{[]byte("answer"), int64(42), m.jelly(nil)}, true)
	select {
	case <-b.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("broker still up after a protocol error")
	}
	var pe *ProtocolError
	if !errors.As(b.Err(), &pe) {
		t.Errorf("Err = %v, want a ProtocolError", b.Err())
	}
}

func TestUnknownDialect(t *testing.T) {
	m, conn := startPair(t)
	// In a goroutine, since the pipe blocks until Open reads; so errors
	// are reported with Errorf, not send's Fatalf.
	go func() {
		data, err := banana.Encode([]any{[]byte("none")}, false)
		if err == nil {
			_, err = m.conn.Write(data)
		}
		if err != nil {
			t.Errorf("sending the dialect offer: %v", err)
		}
	}()
	_, err := Open(context.Background(), conn, slog.New(slog.DiscardHandler))
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("Open = %v, want a ProtocolError", err)
	}
}

func TestChallengeResponseMatchesCapture(t *testing.T) {
	// From the pb_main capture (PB.md §4.1).
	challenge := []byte{0x4f, 0xe5, 0x5b, 0x13, 0xd6, 0x9d, 0x2c, 0xc6, 0xa1, 0xac, 0x3f, 0xee, 0x05, 0x82, 0x9e, 0xe3}
	want := []byte{0x37, 0x67, 0x84, 0xb1, 0xe3, 0x05, 0x76, 0x07, 0x91, 0x17, 0x76, 0x84, 0x2e, 0xbd, 0x6a, 0x42}
	if got := ChallengeResponse([]byte("pass1"), challenge); !bytes.Equal(got, want) {
		t.Errorf("response = %x, want %x", got, want)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Several calls may be in flight on one connection (pipelined transfers
// rely on it): they all go out before any answer, and each answer reaches
// its own call by request id, whatever order the answers come in.
func TestCallsInFlightMatchAnswersByRequestID(t *testing.T) {
	m, conn := startPair(t)
	b := openClient(t, m, conn)
	ref := &RemoteReference{b: b, luid: 5}
	const n = 4
	pending := make([]*Pending, n)
	for i := range n {
		p, err := ref.Start("read", int64(i))
		if err != nil {
			t.Fatal(err)
		}
		pending[i] = p
	}
	reqIDs := make([]int64, n)
	for i := range n {
		msg := m.recvMsg()
		if name(msg) != "message" || string(msg[3].([]byte)) != "read" {
			t.Fatalf("message %d: %v", i, msg)
		}
		if args := msg[5].(jelly.Tuple); len(args) != 1 || args[0] != int64(i) {
			t.Fatalf("call %d went out with %v: calls must keep their order", i, args)
		}
		reqIDs[i] = msg[1].(int64)
	}
	for i := n - 1; i >= 0; i-- {
		m.send([]any{[]byte("answer"), reqIDs[i], m.jelly([]byte{byte('a' + i)})}, true)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, p := range pending {
		v, err := p.Wait(ctx)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if got, ok := v.([]byte); !ok || string(got) != string(rune('a'+i)) {
			t.Errorf("call %d got %v, want its own answer %q", i, v, string(rune('a'+i)))
		}
	}
}
