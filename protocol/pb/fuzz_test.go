package pb

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/buildslave/buildslave/protocol/banana"
	"github.com/buildslave/buildslave/protocol/jelly"
)

// fuzzObject answers every call; it may be called with anything.
type fuzzObject struct{}

func (fuzzObject) RemoteCall(ctx context.Context, method string, args []any, kwargs *jelly.Dict) (any, error) {
	DecrefAll(args)
	DecrefAll(kwargs)
	if method == "echo" {
		return jelly.Tuple(args), nil
	}
	return nil, NoSuchMethod(method)
}

// FuzzHandle feeds a connected broker arbitrary messages after the
// handshake, as a hostile master could: every one must be served, refused
// or end the connection, never panic or hang the broker.
func FuzzHandle(f *testing.F) {
	seed := func(msgs ...any) {
		var buf []byte
		for _, m := range msgs {
			var err error
			if buf, err = banana.Append(buf, m, true); err != nil {
				f.Fatal(err)
			}
		}
		f.Add(buf)
	}
	jl := func(v any) any {
		j, err := jelly.Jelly(v)
		if err != nil {
			f.Fatal(err)
		}
		return j
	}
	call := func(req int64, obj any, method string, args, kw any) []any {
		return []any{[]byte("message"), req, obj, []byte(method), int64(1), args, kw}
	}
	seed(call(1, int64(1), "echo", jl(jelly.Tuple{"x", int64(3)}), jl(&jelly.Dict{})))
	seed(call(1, int64(1), "echo", jl(jelly.Tuple{}), jl(&jelly.Dict{})), []any{[]byte("decref"), int64(1)}, call(2, int64(1), "echo", jl(jelly.Tuple{}), jl(&jelly.Dict{})))
	seed(call(1, int64(1), "nosuch", jl(jelly.Tuple{jelly.Remote{LUID: 5}}), jl(jelly.NewDict("k", jelly.Local{LUID: 1}))))
	seed(call(1, int64(9), "echo", jl(jelly.NewDict()), jl(jelly.Tuple{})))
	seed([]any{[]byte("cachemessage"), int64(1), int64(1), []byte("x"), int64(1), jl(jelly.Tuple{}), jl(&jelly.Dict{})})
	seed([]any{[]byte("answer"), int64(7), jl(nil)})
	seed([]any{[]byte("didNotUnderstand"), int64(1)}, []any{[]byte("uncache"), int64(1)}, []any{[]byte("version"), int64(6)})
	seed([]byte{0x81, 0x80, 0x82}) // raw bad bytes

	f.Fuzz(func(t *testing.T, data []byte) {
		near, far := net.Pipe()
		go func() { _, _ = io.Copy(io.Discard, far) }()
		b := &Broker{
			conn:     near,
			log:      slog.New(slog.DiscardHandler),
			dec:      banana.NewDecoder(bytes.NewReader(data)),
			pending:  make(map[int64]chan result),
			exported: make(map[int64]*export),
			byObject: make(map[Object]int64),
			queue:    newCallQueue(),
			done:     make(chan struct{}),
		}
		b.dec.SetVocabulary(true)
		b.ctx, b.cancel = context.WithCancel(context.Background())
		b.exportObject(&fuzzObject{})
		// A request of ours the input may answer.
		if _, err := b.start([]byte("root"), "login", nil, nil); err != nil {
			t.Fatal(err)
		}
		served := make(chan struct{})
		go func() { b.dispatchLoop(); close(served) }()
		b.readLoop() // returns at the end of data, or on a protocol error
		<-served
		if b.Err() == nil {
			t.Fatal("the read loop ended with the connection still up")
		}
		far.Close()
	})
}
