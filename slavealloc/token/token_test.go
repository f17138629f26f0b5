package token

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func write(t *testing.T, text string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(p, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadAndCheck(t *testing.T) {
	admin, w1 := New(), New()
	p := write(t, "# tokens\n"+admin+"\n"+Hash(w1)+" worker:w1\n\n", 0o600)
	set, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := set.Check(admin); !ok || !s.Admin {
		t.Errorf("admin token: %v %v", s, ok)
	}
	if s, ok := set.Check(w1); !ok || s.Admin || s.Worker != "w1" {
		t.Errorf("worker token: %v %v", s, ok)
	}
	for _, bad := range []string{"", "x", admin + "x", Hash(admin)} {
		if _, ok := set.Check(bad); ok {
			t.Errorf("Check(%q) accepted", bad)
		}
	}
}

func TestLoadRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		text string
		mode os.FileMode
		want string
	}{
		"empty":            {"# nothing\n", 0o600, "no token"},
		"short":            {"abc\n", 0o600, "at least 16"},
		"bad hash":         {"sha256:zz\n", 0o600, "64 hex"},
		"bad scope":        {New() + " root\n", 0o600, "scope"},
		"too many columns": {New() + " admin x\n", 0o600, "expected"},
	} {
		_, err := Load(write(t, tc.text, tc.mode))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
	if runtime.GOOS != "windows" { // POSIX permission bits
		if _, err := Load(write(t, New()+"\n", 0o644)); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("plain tokens readable by all: %v", err)
		}
	}
	// Hashes alone may be world-readable: they grant nothing.
	if _, err := Load(write(t, Hash(New())+"\n", 0o644)); err != nil {
		t.Errorf("hash-only file: %v", err)
	}
}

func TestClientFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "t")
	tok, err := WriteNew(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 && runtime.GOOS != "windows" {
		t.Errorf("mode %v", fi.Mode())
	}
	if _, err := WriteNew(p); err == nil {
		t.Error("WriteNew replaced a file")
	}
	got, err := ReadClient(p)
	if err != nil || got != tok {
		t.Errorf("ReadClient = %q, %v", got, err)
	}
	set, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := set.Check(tok); !ok {
		t.Error("the same file serves the server")
	}
	if _, err := ReadClient(write(t, Hash(tok)+"\n", 0o600)); err == nil {
		t.Error("ReadClient took a hash")
	}
}
