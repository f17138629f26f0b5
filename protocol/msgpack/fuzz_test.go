package msgpack

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// FuzzDecode feeds the message decoder arbitrary bytes: it must never
// panic, and whatever it accepts must re-encode to bytes it decodes to the
// same value (and, for canonical input, to the very same bytes).
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"msgpack_main.master_to_worker.hex", "msgpack_main.worker_to_master.hex"} {
		_, frames := splitCapture(f, readDump(f, name))
		for _, fr := range frames {
			f.Add(fr.payload)
		}
	}
	f.Add([]byte{0x81, 0xa1, 0x61, 0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0xdf, 0x7f, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b, Limits{MaxDepth: 32, MaxItems: 4096})
		if err != nil {
			return
		}
		again, err := Encode(m)
		if err != nil {
			t.Fatalf("decoded %#v does not encode: %v", m, err)
		}
		m2, err := Decode(again, Limits{MaxDepth: 32, MaxItems: 4096})
		if err != nil {
			t.Fatalf("re-encoded bytes do not decode: %v", err)
		}
		again2, _ := Encode(m2)
		if !bytes.Equal(again, again2) {
			t.Fatalf("encoding is not stable: %x vs %x", again, again2)
		}
	})
}

// FuzzMasterFrames plays arbitrary bytes as the master's side of the
// connection right after a successful upgrade: WebSocket frames of any
// shape carrying anything. The session must never panic or hang: Serve
// returns once the master's bytes run out, and every request it decoded was
// answered or dropped.
func FuzzMasterFrames(f *testing.F) {
	_, frames := splitCapture(f, readDump(f, "msgpack_main.master_to_worker.hex"))
	var all []byte
	for i, fr := range frames {
		all = append(all, fr.raw...)
		if i < 8 {
			f.Add(fr.raw)
		}
	}
	f.Add(all)
	f.Add([]byte{0x89, 0x00})                                                 // ping
	f.Add([]byte{0x88, 0x02, 0x03, 0xe8})                                     // close 1000
	f.Add([]byte{0x81, 0x02, 'h', 'i'})                                       // text
	f.Add([]byte{0x02, 0x01, 0x80, 0x80, 0x00})                               // fragmented: continuation missing FIN
	f.Add([]byte{0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) // huge length
	f.Add([]byte{0x82, 0x81, 1, 2, 3, 4, 0x81})                               // masked by the server
	f.Fuzz(func(t *testing.T, data []byte) {
		client, server := net.Pipe()
		go func() {
			defer server.Close()
			serveRaw(server, func(conn net.Conn, br *bufio.Reader, _ *http.Request) {
				go func() { _, _ = io.Copy(io.Discard, br) }()
				_, _ = conn.Write(data)
			}, true)
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s, err := Open(ctx, client, Options{Name: "w1", Password: "p", MaxMessageSize: 1 << 16,
			Limits: Limits{MaxDepth: 16, MaxItems: 1024}})
		if err != nil {
			t.Fatalf("upgrade: %v", err)
		}
		served := make(chan error, 1)
		go func() {
			served <- s.Serve(ctx, HandlerFunc(func(_ context.Context, r *Request) (any, error) {
				return r.Fields, nil
			}))
		}()
		select {
		case err := <-served:
			_ = err // any end will do: the fuzzer looks for hangs and panics
		case <-time.After(5 * time.Second):
			t.Fatal("Serve did not return after the master's bytes ran out")
		}
		s.Close()
	})
}
