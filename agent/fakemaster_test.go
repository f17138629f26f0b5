package agent

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/buildslave/buildslave/protocol/banana"
	"github.com/buildslave/buildslave/protocol/jelly"
	"github.com/buildslave/buildslave/protocol/pb"
)

// fakePBMaster is a scripted PB master on a real loopback socket: it logs
// each worker in, then lets the test call the worker's objects and see the
// calls the worker makes. It knows nothing of Buildbot beyond the login.
type fakePBMaster struct {
	t     *testing.T
	ln    net.Listener
	conns chan *fakePBConn
	// answer, if set, answers the worker's calls on the perspective
	// (keepalive, shutdown); nil answers None.
	answer func(method string) (value any, failure *jelly.Failure)
}

func newFakePBMaster(t *testing.T) *fakePBMaster {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &fakePBMaster{t: t, ln: ln, conns: make(chan *fakePBConn, 8)}
	t.Cleanup(func() { ln.Close() })
	go m.acceptLoop()
	return m
}

func (m *fakePBMaster) port() int { return m.ln.Addr().(*net.TCPAddr).Port }

func (m *fakePBMaster) acceptLoop() {
	for {
		conn, err := m.ln.Accept()
		if err != nil {
			return
		}
		c := &fakePBConn{m: m, conn: conn, dec: banana.NewDecoder(conn),
			pending: make(map[int64]chan []any), calls: make(chan []any, 4096), closed: make(chan struct{})}
		m.t.Cleanup(func() { conn.Close() })
		go func() {
			if err := c.login(); err != nil {
				m.t.Logf("fake master: login: %v", err)
				conn.Close()
				return
			}
			m.conns <- c
			c.readLoop()
		}()
	}
}

// next waits for the next logged-in connection.
func (m *fakePBMaster) next() *fakePBConn {
	m.t.Helper()
	select {
	case c := <-m.conns:
		return c
	case <-time.After(30 * time.Second):
		m.t.Fatal("no worker logged in")
		return nil
	}
}

// fakePBConn is one logged-in worker connection.
type fakePBConn struct {
	m    *fakePBMaster
	conn net.Conn
	dec  *banana.Decoder
	mind int64 // the worker's bot, as the master knows it

	writeMu sync.Mutex
	mu      sync.Mutex
	nextReq int64
	pending map[int64]chan []any
	calls   chan []any // the worker's calls, unjellied: [method, objectID, args]
	closed  chan struct{}
}

func (c *fakePBConn) write(expr any) error {
	data, err := banana.Encode(expr, true)
	if err != nil {
		return err
	}
	return c.writeRaw(data)
}

func (c *fakePBConn) writeRaw(data []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_, err := c.conn.Write(data)
	return err
}

func (c *fakePBConn) read() ([]any, error) {
	c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	v, err := c.dec.Decode()
	if err != nil {
		return nil, err
	}
	msg, _ := v.([]any)
	return msg, nil
}

func jl(v any) any {
	j, err := jelly.Jelly(v)
	if err != nil {
		panic(err)
	}
	return j
}

func (c *fakePBConn) login() error {
	offer, _ := banana.Encode([]any{[]byte("pb"), []byte("none")}, false)
	if err := c.writeRaw(offer); err != nil {
		return err
	}
	if _, err := c.dec.Decode(); err != nil { // "pb"
		return err
	}
	c.dec.SetVocabulary(true)
	if _, err := c.read(); err != nil { // version
		return err
	}
	if err := c.write([]any{[]byte("version"), int64(6)}); err != nil {
		return err
	}
	login, err := c.read()
	if err != nil {
		return err
	}
	if err := c.write([]any{[]byte("answer"), login[1], jl(jelly.Tuple{[]byte("0123456789abcdef"), jelly.Remote{LUID: 1}})}); err != nil {
		return err
	}
	respond, err := c.read()
	if err != nil {
		return err
	}
	args, err := jelly.Unjelly(respond[5])
	if err != nil {
		return err
	}
	c.mind = args.(jelly.Tuple)[1].(jelly.Remote).LUID
	return c.write([]any{[]byte("answer"), respond[1], jl(jelly.Remote{LUID: 2})})
}

func (c *fakePBConn) readLoop() {
	defer close(c.closed)
	for {
		c.conn.SetReadDeadline(time.Time{})
		v, err := c.dec.Decode()
		if err != nil {
			return
		}
		msg, ok := v.([]any)
		if !ok || len(msg) == 0 {
			continue
		}
		switch string(msg[0].([]byte)) {
		case "answer", "error":
			c.mu.Lock()
			ch := c.pending[msg[1].(int64)]
			delete(c.pending, msg[1].(int64))
			c.mu.Unlock()
			if ch != nil {
				ch <- msg
			}
		case "message":
			method := string(msg[3].([]byte))
			args, _ := jelly.Unjelly(msg[5])
			select {
			case c.calls <- []any{method, msg[2], args}:
			default:
			}
			var value any
			var failure *jelly.Failure
			if c.m.answer != nil && msg[2] == int64(2) {
				value, failure = c.m.answer(method)
			}
			if msg[4] != int64(0) {
				if failure != nil {
					_ = c.write([]any{[]byte("error"), msg[1], jl(failure)})
				} else {
					_ = c.write([]any{[]byte("answer"), msg[1], jl(value)})
				}
			}
		}
	}
}

// send sends a call without waiting; the answer arrives on the channel.
func (c *fakePBConn) send(objectID int64, method string, args any, kwargs any) chan []any {
	return c.sendWire(objectID, method, jl(args), jl(kwargs))
}

// sendWire is send with arguments already in their wire form, which may be
// anything at all.
func (c *fakePBConn) sendWire(objectID int64, method string, args any, kwargs any) chan []any {
	ch := make(chan []any, 1)
	c.mu.Lock()
	c.nextReq++
	id := c.nextReq
	c.pending[id] = ch
	c.mu.Unlock()
	if err := c.write([]any{[]byte("message"), id, objectID, []byte(method), int64(1), args, kwargs}); err != nil {
		c.m.t.Errorf("sending %s: %v", method, err)
	}
	return ch
}

// call calls a worker object and returns its answer's value or failure.
func (c *fakePBConn) call(objectID int64, method string, args jelly.Tuple, kwargs *jelly.Dict) (any, *jelly.Failure) {
	c.m.t.Helper()
	if kwargs == nil {
		kwargs = &jelly.Dict{}
	}
	return c.await(c.send(objectID, method, args, kwargs))
}

func (c *fakePBConn) await(ch chan []any) (any, *jelly.Failure) {
	c.m.t.Helper()
	select {
	case msg := <-ch:
		v, err := jelly.Unjelly(msg[2])
		if err != nil {
			c.m.t.Fatalf("unjelly answer: %v", err)
		}
		if string(msg[0].([]byte)) == "error" {
			f, _ := v.(*jelly.Failure)
			if f == nil {
				f = pb.NewFailure(pb.TypePBError, "non-failure error")
			}
			return nil, f
		}
		return v, nil
	case <-c.closed:
		c.m.t.Fatal("the worker dropped the connection")
	case <-time.After(30 * time.Second):
		c.m.t.Fatal("no answer from the worker")
	}
	return nil, nil
}

// waitCall waits for the worker to call method on objectID.
func (c *fakePBConn) waitCall(objectID int64, method string) []any {
	c.m.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case call := <-c.calls:
			if call[0] == method && call[1] == objectID {
				return call
			}
		case <-deadline:
			c.m.t.Fatalf("the worker never called %s on %d", method, objectID)
			return nil
		}
	}
}
