//go:build windows

package command

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// A file the worker reads (a watched logfile) can still be deleted and
// renamed by the build, as on POSIX.
func TestOpenSharedLetsOthersDelete(t *testing.T) {
	dir := t.TempDir()
	for _, op := range []struct {
		name string
		do   func(path string) error
	}{
		{"delete", os.Remove},
		{"rename", func(path string) error { return os.Rename(path, path+".old") }},
	} {
		path := filepath.Join(dir, op.name+".log")
		if err := os.WriteFile(path, []byte("line\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := openShared(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := op.do(path); err != nil {
			t.Errorf("%s while open: %v", op.name, err)
		}
		if b, err := io.ReadAll(f); err != nil || string(b) != "line\n" {
			t.Errorf("%s: read %q, %v", op.name, b, err)
		}
		f.Close()
	}
	if _, err := openShared(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("a missing file: %v, want not-exist", err)
	}
}
