package command

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// wantOSError checks the reference's error ending of a filesystem
// command: rc errno, elapsed, then the header completed with a newline.
func wantOSError(t *testing.T, sink *fakeSink, rc int, header string) {
	t.Helper()
	wantKeys(t, sink, "rc", "elapsed", "header")
	wantRC(t, sink, rc)
	if got := streamText(sink.updates(), "header"); got != header+"\n" {
		t.Errorf("header %q, want %q", got, header+"\n")
	}
	if sink.failure != nil {
		t.Errorf("failure %v", sink.failure)
	}
}

func TestMkdir(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a", "b", "c"), filepath.Join(dir, "x")
	if err := os.Mkdir(b, 0o755); err != nil {
		t.Fatal(err)
	}
	sink := runCommand(t, "mkdir", Args{"paths": []any{a, b}})
	wantKeys(t, sink, "rc", "elapsed")
	wantRC(t, sink, 0)
	if !isDir(a) {
		t.Errorf("%s not created", a)
	}

	writeFile(t, filepath.Join(dir, "file"), []byte("x"))
	under := filepath.Join(dir, "file", "x")
	wantOSError(t, runCommand(t, "mkdir", Args{"paths": []any{under}}), 20, "mkdir: Not a directory: "+under)
	file := filepath.Join(dir, "file")
	wantOSError(t, runCommand(t, "mkdir", Args{"paths": []any{file}}), 17, "mkdir: File exists: "+file)
}

func TestStat(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	writeFile(t, path, []byte("0123456789"))
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink("f", link); err != nil {
		t.Fatal(err)
	}
	sink := runCommand(t, "stat", Args{"path": link})
	wantKeys(t, sink, "stat", "rc", "elapsed")
	wantRC(t, sink, 0)
	st, ok := valuesOf(sink.updates(), "stat")[0].(Stat)
	fi, _ := os.Stat(path)
	switch {
	case !ok:
		t.Fatalf("stat value %T", valuesOf(sink.updates(), "stat")[0])
	case st[0] != unixIFREG|0o640:
		t.Errorf("st_mode %o, want %o (symlink followed)", st[0], unixIFREG|0o640)
	case st[6] != 10:
		t.Errorf("st_size %d, want 10", st[6])
	case st[8] != fi.ModTime().Unix():
		t.Errorf("st_mtime %d, want %d", st[8], fi.ModTime().Unix())
	}

	sink = runCommand(t, "stat", Args{"path": dir})
	if st := valuesOf(sink.updates(), "stat")[0].(Stat); st[0]&0o170000 != unixIFDIR {
		t.Errorf("directory st_mode %o", st[0])
	}

	missing := filepath.Join(dir, "missing")
	wantOSError(t, runCommand(t, "stat", Args{"path": missing}), 2, "stat: No such file or directory: "+missing)
	if sink := runCommand(t, "stat", Args{}); sink.failure == nil {
		t.Error("stat without a path did not fail")
	}
}

func TestListDir(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b", ".hidden", "a"} {
		writeFile(t, filepath.Join(dir, n), nil)
	}
	sink := runCommand(t, "listdir", Args{"path": dir})
	wantKeys(t, sink, "files", "rc", "elapsed")
	if got := valuesOf(sink.updates(), "files")[0]; !slices.Equal(got.([]string), []string{".hidden", "a", "b"}) {
		t.Errorf("files %v", got)
	}
	sink = runCommand(t, "listdir", Args{"path": t.TempDir()})
	if got := valuesOf(sink.updates(), "files")[0].([]string); got == nil || len(got) != 0 {
		t.Errorf("empty directory: files %#v, want an empty list", got)
	}
	missing := filepath.Join(dir, "nodir")
	wantOSError(t, runCommand(t, "listdir", Args{"path": missing}), 2, "listdir: No such file or directory: "+missing)
}

func TestRmFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	writeFile(t, path, nil)
	sink := runCommand(t, "rmfile", Args{"path": path})
	wantKeys(t, sink, "rc", "elapsed")
	wantRC(t, sink, 0)
	if lexists(path) {
		t.Error("file still there")
	}
	wantOSError(t, runCommand(t, "rmfile", Args{"path": path}), 2, "rmfile: No such file or directory: "+path)
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	wantOSError(t, runCommand(t, "rmfile", Args{"path": sub}), 21, "rmfile: Is a directory: "+sub)
	if !isDir(sub) {
		t.Error("rmfile removed a directory")
	}
}

func TestRmdir(t *testing.T) {
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	writeFile(t, filepath.Join(tree, "ro", "file"), []byte("x"))
	writeFile(t, filepath.Join(tree, "locked", "inner", "f"), []byte("x"))
	if err := os.Chmod(filepath.Join(tree, "ro", "file"), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(tree, "ro"), 0o555); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(tree, "locked"), 0); err != nil {
		t.Fatal(err)
	}
	// A link out of the tree: its target must survive, untouched.
	outside := filepath.Join(dir, "outside")
	writeFile(t, outside, []byte("keep"))
	if err := os.Chmod(outside, 0o400); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(tree, "link")); err != nil {
		t.Fatal(err)
	}
	single := filepath.Join(dir, "single")
	writeFile(t, single, nil)

	sink := runCommand(t, "rmdir", Args{"paths": []any{tree, filepath.Join(dir, "missing"), single}})
	wantKeys(t, sink, "rc", "elapsed")
	wantRC(t, sink, 0)
	if lexists(tree) || lexists(single) {
		t.Errorf("left: %v", leftovers(t, dir, "outside"))
	}
	if fi, err := os.Stat(outside); err != nil || fi.Mode().Perm() != 0o400 {
		t.Errorf("link target: %v, %v", fi, err)
	}
}

func TestRmdirReportsFailures(t *testing.T) {
	dir := t.TempDir()
	// A path below a file can be neither listed nor removed, even by root.
	writeFile(t, filepath.Join(dir, "file"), nil)
	bad := filepath.Join(dir, "file", "x")
	ok := filepath.Join(dir, "ok")
	writeFile(t, filepath.Join(ok, "f"), nil)
	sink := runCommand(t, "rmdir", Args{"paths": []any{bad, ok}})
	// rm -rf fails there too (ENOTDIR); the error is reported and the
	// next path still removed.
	wantKeys(t, sink, "header", "rc", "elapsed")
	wantRC(t, sink, 20)
	if got, want := streamText(sink.updates(), "header"), "rmdir: Not a directory: "+bad+"\n"; got != want {
		t.Errorf("header %q, want %q", got, want)
	}
	if lexists(ok) {
		t.Error("the path after the failing one was not removed")
	}
	if sink.failure != nil {
		t.Errorf("failure %v", sink.failure)
	}
}
