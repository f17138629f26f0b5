package sharedfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A writer that replaces a file by a rename gets through while a reader
// holds it: at once on POSIX, and on Windows (which refuses a rename over
// an open file) by retrying until the reader lets go.
func TestRetryReplacesAFileAReaderHolds(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(50 * time.Millisecond); f.Close() }()
	next := filepath.Join(dir, "f.next")
	if err := os.WriteFile(next, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Retry(func() error { return os.Rename(next, path) }); err != nil {
		t.Fatalf("rename over a file open for reading: %v", err)
	}
	got, err := ReadFile(path)
	if err != nil || !bytes.Equal(got, []byte("new")) {
		t.Fatalf("ReadFile after the rename = %q, %v", got, err)
	}
}

func TestRetryStopsAtAPermanentError(t *testing.T) {
	calls := 0
	err := Retry(func() error { calls++; return os.ErrNotExist })
	if !errors.Is(err, os.ErrNotExist) || calls != 1 {
		t.Errorf("Retry = %v after %d calls, want ErrNotExist after 1", err, calls)
	}
}
