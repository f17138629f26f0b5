//go:build windows

package command

import (
	"os"
	"path/filepath"
	"testing"
)

// removeEach, the fallback of removeAll, removes a whole tree (a
// read-only file once made writable, as removeTree does).
func TestRemoveEach(t *testing.T) {
	root := filepath.Join(t.TempDir(), "tree")
	for _, d := range []string{"a/b", "c"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"a/b/f.txt", "c/g.txt", "h.txt"} {
		if err := os.WriteFile(filepath.Join(root, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(root, "c", "g.txt"), 0o444); err != nil {
		t.Fatal(err)
	}
	makeWritable(root) // Windows refuses to delete a read-only file
	if err := removeEach(root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(root); !os.IsNotExist(err) {
		t.Errorf("tree still there: %v", err)
	}
	if err := removeEach(root); err != nil {
		t.Errorf("a missing tree: %v", err)
	}
}
