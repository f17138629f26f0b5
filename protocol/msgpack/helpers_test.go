package msgpack

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// fakeMaster is a WebSocket server built on the library's own server side;
// serve plays the master on each connection.
func fakeMaster(t *testing.T, serve func(ctx context.Context, c *websocket.Conn, r *http.Request)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		c.SetReadLimit(-1)
		defer c.CloseNow()
		serve(r.Context(), c, r)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// statusMaster answers every upgrade with raw bytes and closes, as the
// master does for a refused login.
func statusMaster(t *testing.T, answer string) string {
	t.Helper()
	return rawMaster(t, func(conn net.Conn, _ *bufio.Reader, _ *http.Request) {
		_, _ = io.WriteString(conn, answer)
	}, false)
}

// rawMaster accepts TCP connections, reads the upgrade request and, if
// accept, answers 101 with the right Sec-WebSocket-Accept; then serve owns
// the connection.
func rawMaster(t *testing.T, serve func(conn net.Conn, br *bufio.Reader, req *http.Request), accept bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				serveRaw(conn, serve, accept)
			}()
		}
	}()
	return ln.Addr().String()
}

func serveRaw(conn net.Conn, serve func(conn net.Conn, br *bufio.Reader, req *http.Request), accept bool) {
	br := bufio.NewReader(conn)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	if accept {
		fmt.Fprintf(conn, "HTTP/1.1 101 Switching Protocols\r\nServer: AutobahnPython/22.7.1\r\nUpgrade: WebSocket\r\n"+
			"Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", acceptKey(req.Header.Get("Sec-WebSocket-Key")))
	}
	serve(conn, br, req)
}

func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// open dials addr and opens a session with the test credentials.
func open(t *testing.T, addr string, opts Options) (*Session, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Name == "" {
		opts.Name, opts.Password = "w1", "pass1"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return Open(ctx, conn, opts)
}

// serving opens a session and runs Serve with h until the test ends.
func serving(t *testing.T, addr string, opts Options, h Handler) (*Session, <-chan error) {
	t.Helper()
	s, err := open(t, addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		done <- s.Serve(context.Background(), h)
	}()
	t.Cleanup(func() {
		s.Close()
		select {
		case <-finished:
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after Close")
		}
	})
	return s, done
}

// send and recv speak msgpack on the fake master's side.
func send(ctx context.Context, t *testing.T, c *websocket.Conn, m Map) {
	b, err := Encode(m)
	if err != nil {
		t.Error(err)
		return
	}
	if err := c.Write(ctx, websocket.MessageBinary, b); err != nil {
		t.Errorf("master write: %v", err)
	}
}

func recv(ctx context.Context, c *websocket.Conn) (Map, error) {
	typ, b, err := c.Read(ctx)
	if err != nil {
		return nil, err
	}
	if typ != websocket.MessageBinary {
		return nil, errors.New("worker sent a text message")
	}
	return Decode(b, Limits{})
}

var nopHandler = HandlerFunc(func(context.Context, *Request) (any, error) { return nil, nil })
