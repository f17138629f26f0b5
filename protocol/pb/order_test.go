package pb

import (
	"context"
	"strings"
	"testing"

	"github.com/buildslave/buildslave/protocol/jelly"
)

// gate is a local object whose "wait" method blocks until released, so
// that later calls queue up behind it; "echo" answers its arguments.
type gate struct {
	entered, release chan struct{}
}

func (g *gate) RemoteCall(ctx context.Context, method string, args []any, kwargs *jelly.Dict) (any, error) {
	switch method {
	case "wait":
		close(g.entered)
		<-g.release
		return nil, nil
	case "echo":
		return jelly.Tuple(args), nil
	}
	return nil, NoSuchMethod(method)
}

// loginWith logs b in as the fake master's side sees it and returns the
// luid the master knows mind by.
func loginWith(t *testing.T, m *fakeMaster, b *Broker, mind Object) int64 {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := b.Login(context.Background(), []byte("w1"), []byte("pass1"), mind)
		done <- err
	}()
	login := m.recvMsg()
	m.send([]any{[]byte("answer"), login[1], m.jelly(jelly.Tuple{[]byte("0123456789abcdef"), jelly.Remote{LUID: 1}})}, true)
	respond := m.recvMsg()
	mindRef := respond[5].(jelly.Tuple)[1].(jelly.Remote)
	m.recvMsg() // the challenger's decref
	m.send([]any{[]byte("answer"), respond[1], m.jelly(jelly.Remote{LUID: 2})}, true)
	if err := <-done; err != nil {
		t.Fatalf("Login: %v", err)
	}
	return mindRef.LUID
}

// A master may call an object and drop its last reference to it in the
// very next message: Twisted serves the call, since it handles messages in
// wire order. The call must not fail with "Invalid Object ID" because it
// was still queued behind a slow one when the decref was read.
func TestCallThenDecrefIsServed(t *testing.T) {
	m, conn := startPair(t)
	b := openClient(t, m, conn)
	g := &gate{entered: make(chan struct{}), release: make(chan struct{})}
	luid := loginWith(t, m, b, g)

	m.call(1, luid, "wait", jelly.Tuple{}, nil)
	<-g.entered
	m.call(2, luid, "echo", jelly.Tuple{"still here"}, nil)
	m.send([]any{[]byte("decref"), luid}, true)
	waitFor(t, func() bool { return b.Exported() == 0 })
	close(g.release)

	if got := m.recvMsg(); name(got) != "answer" || got[1] != int64(1) {
		t.Fatalf("answer to wait = %v", got)
	}
	got := m.recvMsg()
	if name(got) != "answer" || got[1] != int64(2) {
		t.Fatalf("answer to echo after its target's decref = %#v, want the echo", got)
	}
	if a, ok := got[2].(jelly.Tuple); !ok || len(a) != 1 || a[0] != "still here" {
		t.Errorf("echo = %#v", got[2])
	}
	// Once served, the object is gone: a later call fails as in Twisted.
	m.call(3, luid, "echo", jelly.Tuple{}, nil)
	got = m.recvMsg()
	if f, ok := got[2].(*jelly.Failure); name(got) != "error" || !ok || f.Value != "Invalid Object ID" {
		t.Errorf("call after the decref = %#v", got)
	}
}

// Errors the master reads name Python types, and a value nested too deeply
// says so once, not once per level.
func TestCallErrorsSpeakPython(t *testing.T) {
	m, conn := startPair(t)
	b := openClient(t, m, conn)
	g := &gate{entered: make(chan struct{}), release: make(chan struct{})}
	luid := loginWith(t, m, b, g)

	// Arguments that are a dict, not a tuple.
	m.send([]any{[]byte("message"), int64(1), luid, []byte("echo"), int64(1), m.jelly(jelly.NewDict("a", int64(1))), m.jelly(&jelly.Dict{})}, true)
	got := m.recvMsg()
	f, ok := got[2].(*jelly.Failure)
	if name(got) != "error" || !ok || f.Value != "arguments of echo are a dict, not a tuple" {
		t.Errorf("dict as arguments: %#v", got)
	}

	// Lists nested 200 deep: the depth bound, said once.
	var deep any = []any{[]byte("list")}
	for range 200 {
		deep = []any{[]byte("list"), deep}
	}
	m.send([]any{[]byte("message"), int64(2), luid, []byte("echo"), int64(1), []any{[]byte("tuple"), deep}, m.jelly(&jelly.Dict{})}, true)
	got = m.recvMsg()
	f, ok = got[2].(*jelly.Failure)
	if name(got) != "error" || !ok {
		t.Fatalf("deep arguments: %#v", got)
	}
	if n := strings.Count(f.Value, "element 0"); n > 1 || len(f.Value) > 200 {
		t.Errorf("deep arguments error repeats itself (%d times, %d bytes): %.300s", n, len(f.Value), f.Value)
	}
	for _, goName := range []string{"*jelly", "[]interface", "big.Int", "[]uint8"} {
		if strings.Contains(f.Value, goName) {
			t.Errorf("error %q names a Go type", f.Value)
		}
	}
}
