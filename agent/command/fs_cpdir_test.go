package command

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCpdir(t *testing.T) {
	dir := t.TempDir()
	from := filepath.Join(dir, "tree")
	makeTree(t, from)
	stamp := time.Unix(1600000000, 0)
	for _, p := range []string{"sub/deep/b.txt", "sub/deep", "empty", "."} {
		if err := os.Chtimes(filepath.Join(from, p), stamp, stamp); err != nil {
			t.Fatal(err)
		}
	}
	to := filepath.Join(dir, "new", "copy") // its parent is created
	sink := runCommand(t, "cpdir", Args{"from_path": from, "to_path": to})
	wantKeys(t, sink, "stdout", "rc", "elapsed")
	wantRC(t, sink, 0)
	if out := streamText(sink.updates(), "stdout"); !strings.Contains(out, "'"+from+"/a.txt' -> '"+to+"/a.txt'\n") {
		t.Errorf("stdout lacks cp -v's line for a.txt:\n%s", out)
	}

	check := func(rel string, mode os.FileMode) os.FileInfo {
		t.Helper()
		fi, err := os.Lstat(filepath.Join(to, rel))
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		if fi.Mode()&(os.ModeType|os.ModePerm) != mode {
			t.Errorf("%s: mode %v, want %v", rel, fi.Mode(), mode)
		}
		return fi
	}
	check(".", os.ModeDir|0o755)
	check("empty", os.ModeDir|0o750)
	check("run.sh", 0o755)
	if fi := check("sub/deep/b.txt", 0o644); fi != nil && !fi.ModTime().Equal(stamp) {
		t.Errorf("b.txt mtime %v, want %v", fi.ModTime(), stamp)
	}
	if fi := check("sub/deep", os.ModeDir|0o755); fi != nil && !fi.ModTime().Equal(stamp) {
		t.Errorf("sub/deep mtime %v, want %v", fi.ModTime(), stamp)
	}
	if target, err := os.Readlink(filepath.Join(to, "link")); err != nil || target != "a.txt" {
		t.Errorf("link: %q, %v", target, err)
	}
	if data, _ := os.ReadFile(filepath.Join(to, "sub", "deep", "b.txt")); string(data) != "beta\n" {
		t.Errorf("b.txt: %q", data)
	}

	// Into an existing directory: like cp -R, below it.
	into := filepath.Join(dir, "into")
	if err := os.Mkdir(into, 0o755); err != nil {
		t.Fatal(err)
	}
	wantRC(t, runCommand(t, "cpdir", Args{"from_path": from, "to_path": into}), 0)
	if !lexists(filepath.Join(into, "tree", "a.txt")) {
		t.Error("copy into an existing directory: tree/a.txt missing")
	}
}

func TestCpdirErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nodir")
	sink := runCommand(t, "cpdir", Args{"from_path": missing, "to_path": filepath.Join(dir, "copy")})
	wantKeys(t, sink, "stderr", "rc", "elapsed")
	wantRC(t, sink, 1)
	if got, want := streamText(sink.updates(), "stderr"), "cp: cannot stat '"+missing+"': No such file or directory\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}

	from := filepath.Join(dir, "tree")
	writeFile(t, filepath.Join(from, "f"), nil)
	sink = runCommand(t, "cpdir", Args{"from_path": from, "to_path": filepath.Join(from, "sub")})
	wantRC(t, sink, 1)
	if got := streamText(sink.updates(), "stderr"); !strings.Contains(got, "into itself") {
		t.Errorf("stderr %q", got)
	}
	if _, err := NewRegistry().New("cpdir", Args{"from_path": from}, nil); err == nil ||
		err.Error() != "CopyDirectory is missing args: to_path" {
		t.Errorf("missing to_path: %v", err)
	}
}

// An interrupt stops rmdir and cpdir before their next entry; like an
// interrupted shell they send rc -1 and no elapsed.
func TestFsInterrupt(t *testing.T) {
	dir := t.TempDir()
	from := filepath.Join(dir, "tree")
	makeTree(t, from)
	for name, args := range map[string]Args{
		"cpdir": {"from_path": from, "to_path": filepath.Join(dir, "copy")},
		"rmdir": {"paths": []any{from}},
	} {
		cmd, err := NewRegistry().New(name, args, &Environment{})
		if err != nil {
			t.Fatal(err)
		}
		cmd.Interrupt("test")
		sink := runCreated(t, cmd)
		wantKeys(t, sink, "rc")
		wantRC(t, sink, -1)
	}
	if lexists(filepath.Join(dir, "copy")) || !lexists(from) {
		t.Error("an interrupted command went on")
	}
}
