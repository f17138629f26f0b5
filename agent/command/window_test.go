package command

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(b)
	return b
}

// A pipelined download keeps several reads in flight, never more than
// transferWindow bytes of them, in blocks larger than the step's, and the
// file comes out whole.
func TestDownloadPipelinedStaysInWindow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dl.bin")
	data := randomBytes(3*transferWindow + 12345)
	r := &pipeReader{data: data}
	sink := runCommand(t, "downloadFile", downloadArgs(path, r, 16384, nil, int64(0o640)))
	wantRC(t, sink, 0)
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("file of %d bytes (%v), want the %d sent", len(got), err, len(data))
	}
	if r.maxBytes > transferWindow {
		t.Errorf("%d bytes of reads in flight, window %d", r.maxBytes, transferWindow)
	}
	if want := transferWindow / transferBlock; r.maxCalls != want {
		t.Errorf("at most %d reads in flight, want %d", r.maxCalls, want)
	}
	for i, n := range r.reads {
		if n != transferBlock {
			t.Fatalf("read %d asked for %d bytes, want %d", i+1, n, transferBlock)
		}
	}
	if r.closeCount() != 1 {
		t.Errorf("reader closed %d times", r.closeCount())
	}
	if want := len(r.reads) - 1; r.recycled < want-transferWindow/transferBlock {
		t.Errorf("%d blocks recycled of %d reads", r.recycled, len(r.reads))
	}
	if extra := leftovers(t, dir, "dl.bin"); extra != nil {
		t.Errorf("left behind: %v", extra)
	}
}

// Over a pipelined reader maxsize holds as before: no read asks beyond
// it, a file of exactly maxsize bytes is whole, a longer one is refused
// and leaves the destination as it was.
func TestDownloadPipelinedMaxsize(t *testing.T) {
	const maxsize = 2*transferBlock + 1000
	for _, tc := range []struct {
		size int
		rc   int
	}{
		{size: maxsize + 5000, rc: 1},
		{size: maxsize, rc: 0},
		{size: maxsize - 1, rc: 0},
		{size: 100, rc: 0},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "dl.bin")
		writeFile(t, path, []byte("before"))
		data := randomBytes(tc.size)
		r := &pipeReader{data: data}
		sink := runCommand(t, "downloadFile", downloadArgs(path, r, 16384, int64(maxsize), nil))
		wantRC(t, sink, tc.rc)
		asked := 0
		for _, n := range r.reads {
			asked += n
		}
		if asked > maxsize+1 {
			t.Errorf("size %d: reads %v ask for %d bytes, maxsize %d", tc.size, r.reads, asked, maxsize)
		}
		got, _ := os.ReadFile(path)
		if tc.rc == 1 {
			if want := "Maximum filesize reached, truncating file '" + path + "'\n"; streamText(sink.updates(), "stderr") != want {
				t.Errorf("stderr %q, want %q", streamText(sink.updates(), "stderr"), want)
			}
			if string(got) != "before" {
				t.Errorf("destination has %d bytes after a truncated download", len(got))
			}
		} else if !bytes.Equal(got, data) {
			t.Errorf("size %d: file has %d bytes", tc.size, len(got))
		}
		if extra := leftovers(t, dir, "dl.bin"); extra != nil {
			t.Errorf("left behind: %v", extra)
		}
	}
}

// A read refused halfway fails the step with its error; the reads in
// flight behind it are abandoned, the reader is closed and no partial
// file is left.
func TestDownloadPipelinedReadFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dl.bin")
	r := &pipeReader{data: randomBytes(4 * transferWindow), failAt: 6}
	sink := runCommand(t, "downloadFile", downloadArgs(path, r, 16384, nil, nil))
	wantRC(t, sink, 1)
	if !errors.Is(sink.failure, errMaster) {
		t.Errorf("failure %v, want the read's error", sink.failure)
	}
	if r.closeCount() != 1 {
		t.Errorf("reader closed %d times", r.closeCount())
	}
	if max := 6 + transferWindow/transferBlock; len(r.reads) > max {
		t.Errorf("%d reads sent, want at most %d (none beyond the window after the failure)", len(r.reads), max)
	}
	if extra := leftovers(t, dir); extra != nil {
		t.Errorf("a partial download was left: %v", extra)
	}
}

func TestDownloadPipelinedInterrupt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dl.bin")
	r := &pipeReader{data: randomBytes(4 * transferWindow)}
	cmd, err := NewRegistry().New("downloadFile", downloadArgs(path, r, 16384, nil, nil), &Environment{})
	if err != nil {
		t.Fatal(err)
	}
	r.onWait = func(n int) {
		if n == 2 {
			cmd.Interrupt("test")
		}
	}
	sink := runCreated(t, cmd)
	wantKeys(t, sink, "rc")
	wantRC(t, sink, 1)
	if r.closeCount() != 1 {
		t.Errorf("reader closed %d times", r.closeCount())
	}
	if extra := leftovers(t, dir); extra != nil {
		t.Errorf("a partial download was left: %v", extra)
	}
}

// A pipelined upload keeps writes in flight within the window, in blocks
// larger than the step's, and closes (and stamps) once all are answered.
func TestUploadPipelinedStaysInWindow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "up.bin")
	data := randomBytes(3*transferWindow + 777)
	writeFile(t, path, data)
	w := &pipeWriter{}
	args := uploadArgs(path, w, 16384, nil)
	args["keepstamp"] = true
	sink := runCommand(t, "uploadFile", args)
	wantRC(t, sink, 0)
	if !bytes.Equal(w.data, data) {
		t.Fatalf("uploaded %d bytes, want the %d of the file", len(w.data), len(data))
	}
	if w.maxBytes > transferWindow {
		t.Errorf("%d bytes of writes in flight, window %d", w.maxBytes, transferWindow)
	}
	if want := transferWindow / transferBlock; w.maxCalls != want {
		t.Errorf("at most %d writes in flight, want %d", w.maxCalls, want)
	}
	sizes := w.blockSizes()
	for i, n := range sizes[:len(sizes)-1] {
		if n != transferBlock {
			t.Fatalf("write %d carries %d bytes, want %d", i+1, n, transferBlock)
		}
	}
	if got := w.callsWithoutWrites(); !slices.Equal(got, []string{"close", "utime"}) {
		t.Errorf("writer calls %v, want [close utime]", got)
	}
	if w.pending != 0 {
		t.Errorf("%d writes never waited for", w.pending)
	}
}

// The first refused write fails the step with its error, no more than a
// window's worth of writes follow it, and the writer is left to the
// master's step, which cancels it.
func TestUploadPipelinedWriteRefused(t *testing.T) {
	for _, name := range []string{"uploadFile", "uploadDirectory"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "up.bin")
			if name == "uploadDirectory" {
				path = filepath.Join(dir, "tree")
				writeFile(t, filepath.Join(path, "big.bin"), randomBytes(3*transferWindow))
			} else {
				writeFile(t, path, randomBytes(3*transferWindow))
			}
			w := &pipeWriter{refuse: 3}
			sink := runCommand(t, name, uploadArgs(path, w, 16384, nil))
			wantRC(t, sink, 1)
			if !errors.Is(sink.failure, errMaster) {
				t.Errorf("failure %v, want the write's error", sink.failure)
			}
			if max := 3 + transferWindow/transferBlock; len(w.blocks) > max {
				t.Errorf("%d writes, want at most %d", len(w.blocks), max)
			}
			// No close or unpack would let the master keep the partial
			// data as whole; it cancels the writer itself.
			if calls := w.callsWithoutWrites(); len(calls) != 0 {
				t.Errorf("writer calls %v after a refused write, want none", calls)
			}
		})
	}
}

// A pipelined directory upload unpacks once its writes are answered.
func TestUploadDirectoryPipelined(t *testing.T) {
	root := filepath.Join(t.TempDir(), "tree")
	for i := range 50 {
		writeFile(t, filepath.Join(root, "d", string(rune('a'+i%26))+string(rune('a'+i/26))), randomBytes(3000))
	}
	w := &pipeWriter{}
	sink := runCommand(t, "uploadDirectory", uploadArgs(root, w, 16384, nil))
	wantRC(t, sink, 0)
	if got := w.callsWithoutWrites(); !slices.Equal(got, []string{"unpack"}) {
		t.Errorf("writer calls %v, want [unpack]", got)
	}
	if w.maxCalls < 1 || len(w.blocks) != (len(w.data)+transferBlock-1)/transferBlock {
		t.Errorf("%d writes for %d bytes, want blocks of %d", len(w.blocks), len(w.data), transferBlock)
	}
	if w.pending != 0 {
		t.Errorf("%d writes never waited for", w.pending)
	}
}
