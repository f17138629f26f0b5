package command

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func uploadArgs(path string, w FileWriter, blocksize int64, maxsize any) Args {
	return Args{"path": path, "writer": w, "blocksize": blocksize, "maxsize": maxsize, "keepstamp": false}
}

func TestUploadFileStreamsBlocks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.txt")
	data := []byte("01234567890123456789")
	writeFile(t, path, data)
	w := &fakeWriter{}
	sink := runCommand(t, "uploadFile", uploadArgs(path, w, 8, nil))

	if !bytes.Equal(w.data, data) {
		t.Errorf("uploaded %q, want %q", w.data, data)
	}
	if got := w.blockSizes(); !slices.Equal(got, []int{8, 8, 4}) {
		t.Errorf("blocks %v, want [8 8 4]", got)
	}
	if got := w.callsWithoutWrites(); !slices.Equal(got, []string{"close"}) {
		t.Errorf("writer calls %v, want [close]", got)
	}
	wantKeys(t, sink, "header", "rc", "elapsed")
	if got := streamText(sink.updates(), "header"); got != "sending "+path+"\n" {
		t.Errorf("header %q", got)
	}
	wantRC(t, sink, 0)
	if sink.failure != nil {
		t.Errorf("failure %v", sink.failure)
	}
}

func TestUploadFileKeepstampAfterClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.txt")
	writeFile(t, path, []byte("x"))
	stamp := time.Unix(1700000000, 500000000)
	if err := os.Chtimes(path, stamp, stamp); err != nil {
		t.Fatal(err)
	}
	w := &fakeWriter{}
	args := uploadArgs(path, w, 16384, nil)
	args["keepstamp"] = true
	sink := runCommand(t, "upload_file", args)
	wantRC(t, sink, 0)
	if got := w.callsWithoutWrites(); !slices.Equal(got, []string{"close", "utime"}) {
		t.Errorf("writer calls %v, want [close utime]", got)
	}
	if w.utime[1] != 1700000000.5 {
		t.Errorf("utime mtime %v, want 1700000000.5", w.utime[1])
	}
}

func TestUploadFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.txt")
	w := &fakeWriter{}
	sink := runCommand(t, "uploadFile", uploadArgs(path, w, 16384, nil))
	if got := w.calls; !slices.Equal(got, []string{"close"}) {
		t.Errorf("writer calls %v, want only close", got)
	}
	wantKeys(t, sink, "header", "rc", "elapsed", "stderr")
	wantRC(t, sink, 1)
	if got, want := streamText(sink.updates(), "stderr"), "Cannot open file '"+path+"' for upload\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
	if sink.failure != nil {
		t.Errorf("failure %v, want none", sink.failure)
	}
}

func TestUploadFileDirectory(t *testing.T) {
	path := t.TempDir()
	w := &fakeWriter{}
	sink := runCommand(t, "uploadFile", uploadArgs(path, w, 16384, nil))
	wantRC(t, sink, 1)
	if got, want := streamText(sink.updates(), "stderr"), "Cannot open file '"+path+"' for upload\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
	if sink.failure != nil || !slices.Equal(w.calls, []string{"close"}) {
		t.Errorf("failure %v, writer calls %v", sink.failure, w.calls)
	}
}

func TestUploadFileMaxsize(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		size   int
		rc     int
		blocks []int
	}{
		{size: 30, rc: 1, blocks: []int{8, 8, 4}},
		// The reference calls a file of exactly maxsize bytes truncated;
		// we do not (see sendBlocks).
		{size: 20, rc: 0, blocks: []int{8, 8, 4}},
		{size: 19, rc: 0, blocks: []int{8, 8, 3}},
	} {
		path := filepath.Join(dir, "big.txt")
		writeFile(t, path, bytes.Repeat([]byte("z"), tc.size))
		w := &fakeWriter{}
		sink := runCommand(t, "uploadFile", uploadArgs(path, w, 8, int64(20)))
		wantRC(t, sink, tc.rc)
		if got := w.blockSizes(); !slices.Equal(got, tc.blocks) {
			t.Errorf("size %d: blocks %v, want %v", tc.size, got, tc.blocks)
		}
		stderr := streamText(sink.updates(), "stderr")
		if tc.rc == 1 {
			wantKeys(t, sink, "header", "rc", "elapsed", "stderr")
			if want := "Maximum filesize reached, truncating file '" + path + "'\n"; stderr != want {
				t.Errorf("stderr %q, want %q", stderr, want)
			}
		} else if stderr != "" {
			t.Errorf("size %d: stderr %q", tc.size, stderr)
		}
	}
}

func TestUploadFileCapsBlocks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.bin")
	writeFile(t, path, make([]byte, 2*maxBlockSize+1))
	w := &fakeWriter{}
	sink := runCommand(t, "uploadFile", uploadArgs(path, w, 10<<20, nil))
	wantRC(t, sink, 0)
	if got := w.blockSizes(); !slices.Equal(got, []int{maxBlockSize, maxBlockSize, 1}) {
		t.Errorf("blocks %v", got)
	}
}

func TestUploadFileWriteFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.txt")
	writeFile(t, path, bytes.Repeat([]byte("a"), 100))
	w := &fakeWriter{failAt: 2}
	sink := runCommand(t, "uploadFile", uploadArgs(path, w, 10, nil))
	// Unlike the reference: a close would make the master keep the
	// partial file; left open, the master cancels it.
	if got := w.callsWithoutWrites(); len(got) != 0 {
		t.Errorf("writer calls %v after a failed write, want none", got)
	}
	if len(w.blocks) != 2 {
		t.Errorf("%d writes, want 2 (none after the failure)", len(w.blocks))
	}
	wantRC(t, sink, 1)
	if !errors.Is(sink.failure, errMaster) {
		t.Errorf("failure %v, want the write's error", sink.failure)
	}
}

func TestUploadFileInterrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.txt")
	writeFile(t, path, bytes.Repeat([]byte("a"), 100))
	w := &fakeWriter{}
	cmd, err := NewRegistry().New("uploadFile", uploadArgs(path, w, 10, nil), &Environment{})
	if err != nil {
		t.Fatal(err)
	}
	w.onWrite = func(n int) {
		if n == 2 {
			cmd.Interrupt("test")
		}
	}
	sink := runCreated(t, cmd)
	if len(w.blocks) != 2 {
		t.Errorf("%d writes, want 2: the upload stops at the next block", len(w.blocks))
	}
	if got := w.callsWithoutWrites(); !slices.Equal(got, []string{"close"}) {
		t.Errorf("writer calls %v", got)
	}
	// Interrupted: no elapsed, as the reference.
	wantKeys(t, sink, "header", "rc")
	wantRC(t, sink, 1)
	if sink.failure != nil {
		t.Errorf("failure %v", sink.failure)
	}
}

func TestUploadFileBadArgs(t *testing.T) {
	_, err := NewRegistry().New("uploadFile", Args{"path": "/x"}, &Environment{})
	var missing *MissingArgsError
	if !errors.As(err, &missing) || err.Error() != "WorkerFileUploadCommand is missing args: writer, blocksize" {
		t.Errorf("missing args: %v", err)
	}
	path := filepath.Join(t.TempDir(), "f.txt")
	writeFile(t, path, []byte("x"))
	for _, args := range []Args{
		uploadArgs(path, &fakeWriter{}, 0, nil),
		uploadArgs(path, &fakeWriter{}, 8, "big"),
		{"path": path, "writer": "not a writer", "blocksize": int64(8)},
	} {
		sink := runCommand(t, "uploadFile", args)
		if sink.failure == nil {
			t.Errorf("args %v: no failure", args)
		}
		if rcs := valuesOf(sink.updates(), "rc"); len(rcs) != 0 {
			t.Errorf("args %v: rc %v sent for a bad argument", args, rcs)
		}
	}
}
