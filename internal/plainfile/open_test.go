package plainfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestOpenReadsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	want := []byte("contents\n")
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil || string(got) != string(want) {
		t.Fatalf("read %q, %v; want %q", got, err, want)
	}
	if f.Name() != path {
		t.Errorf("Name() = %q, want %q", f.Name(), path)
	}
	if _, err := f.Write([]byte("x")); err == nil {
		t.Error("a file opened for reading took a write")
	}
}

// Callers tell a missing file from other failures, as with os.Open.
func TestOpenFailsLikeOsOpen(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	_, err := Open(missing)
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe.Op != "open" || pe.Path != missing {
		t.Fatalf("Open(missing) = %#v, want an open *fs.PathError for it that is fs.ErrNotExist", err)
	}
}
