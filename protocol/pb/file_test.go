package pb

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/buildslave/buildslave/protocol/banana"

	"github.com/buildslave/buildslave/protocol/jelly"
)

// StartFile sends a file's bytes as a call's bytes argument, block by
// block from the file's offset, and nothing at its end; the calls around
// it keep their order. Over TCP the bytes come from the file in the
// kernel; the peer cannot tell.
func TestStartFileSendsTheFileInBlocks(t *testing.T) {
	content := make([]byte, 5*uncopiedString+123)
	for i := range content {
		content[i] = byte(i * 7)
	}
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	m, conn := startPair(t)
	b := openClient(t, m, conn)
	ref := &RemoteReference{b: b, luid: 5}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := 2 * uncopiedString
	var sizes []int
	for {
		p, n, err := ref.StartFile("write", f, block)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			if p != nil {
				t.Fatal("a call at the end of the file")
			}
			break
		}
		sizes = append(sizes, n)
		if _, err := ref.Start("note", int64(n)); err != nil {
			t.Fatal(err)
		}
	}
	if want := []int{block, block, len(content) - 2*block}; len(sizes) != 3 || sizes[0] != want[0] || sizes[2] != want[2] {
		t.Fatalf("blocks of %v, want %v", sizes, want)
	}
	var got []byte
	for range sizes {
		msg := m.recvMsg()
		args := msg[5].(jelly.Tuple)
		data, ok := args[0].([]byte)
		if string(msg[3].([]byte)) != "write" || !ok || len(args) != 1 {
			t.Fatalf("%s with %v", msg[3], args)
		}
		got = append(got, data...)
		if note := m.recvMsg(); string(note[3].([]byte)) != "note" || note[5].(jelly.Tuple)[0] != int64(len(data)) {
			t.Fatalf("after a write of %d: %v %v", len(data), note[3], note[5])
		}
	}
	if !bytes.Equal(got, content) {
		t.Fatal("the bytes the peer got differ from the file's")
	}
}

// Without a socket that can take bytes from a file (TLS), StartFile reads
// the block and sends it as any call.
func TestStartFileWithoutSendfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("some bytes of a file"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, conn := startPair(t)
	b := openClient(t, m, conn)
	b.vectored = false
	ref := &RemoteReference{b: b, luid: 5}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, n, err := ref.StartFile("write", f, 10); n != 10 || err != nil {
		t.Fatalf("StartFile = %d, %v", n, err)
	}
	if _, n, err := ref.StartFile("write", f, 100); n != 10 || err != nil {
		t.Fatalf("StartFile = %d, %v", n, err)
	}
	if p, n, err := ref.StartFile("write", f, 100); p != nil || n != 0 || err != nil {
		t.Fatalf("at the end: %v, %d, %v", p, n, err)
	}
	for _, want := range []string{"some bytes", " of a file"} {
		msg := m.recvMsg()
		if got, _ := msg[5].(jelly.Tuple)[0].([]byte); string(got) != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// A file that ends before the bytes its call announced is padded over:
// the caller hears ErrFileShrank and the connection stays framed, the
// next call arriving intact.
func TestSendFilePadsAShrunkFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, conn := startPair(t)
	b := openClient(t, m, conn)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	args := []any{[]byte("tuple"), banana.External(uncopiedString)}
	msg := []any{[]byte("message"), int64(99), int64(5), []byte("write"), int64(1), args, []any{[]byte("dictionary")}}
	if err := b.sendFile(msg, f, uncopiedString); !errors.Is(err, ErrFileShrank) {
		t.Fatalf("sendFile = %v, want ErrFileShrank", err)
	}
	ref := &RemoteReference{b: b, luid: 5}
	if _, err := ref.Start("note", int64(1)); err != nil {
		t.Fatal(err)
	}
	got := m.recvMsg()
	data, _ := got[5].(jelly.Tuple)[0].([]byte)
	if len(data) != uncopiedString || string(data[:5]) != "short" || data[5] != 0 {
		t.Fatalf("the damaged block: %d bytes starting %q", len(data), data[:min(len(data), 8)])
	}
	if note := m.recvMsg(); string(note[3].([]byte)) != "note" {
		t.Fatalf("the next call: %v", note)
	}
}
