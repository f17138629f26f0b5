//go:build windows

package command

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// A command name is looked up in the command's PATH (the master may have
// changed it), with PATHEXT, relative entries relative to the workdir.
func TestLookPathUsesTheCommandsPath(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "tools"), 0o755); err != nil {
		t.Fatal(err)
	}
	bat := filepath.Join(dir, "tools", "hello-bs.bat")
	if err := os.WriteFile(bat, []byte("@echo from-bat\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, path, want string }{
		{"hello-bs", "tools;" + os.Getenv("PATH"), bat},
		{"hello-bs.bat", filepath.Join(dir, "tools"), bat},
		{"hello-bs", os.Getenv("PATH"), ""},
	} {
		got, err := lookPath(tc.file, tc.path, dir)
		if tc.want == "" {
			if !errors.Is(err, exec.ErrNotFound) {
				t.Errorf("lookPath(%q, %q) = %q, %v; want not found", tc.file, tc.path, got, err)
			}
			continue
		}
		if err != nil || !sameFile(got, tc.want) {
			t.Errorf("lookPath(%q, %q) = %q, %v; want %q", tc.file, tc.path, got, err, tc.want)
		}
	}
	if got, err := lookPath("cmd", "", dir); err != nil || !sameFile(got, os.Getenv("COMSPEC")) {
		t.Errorf("lookPath(cmd) in the worker's PATH = %q, %v", got, err)
	}
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

func TestComspecArgv(t *testing.T) {
	spaced := filepath.Join(t.TempDir(), "my shell", "cmd.exe")
	if err := os.MkdirAll(filepath.Dir(spaced), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(spaced, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		comspec string
		want    []string
	}{
		{"", []string{"cmd.exe"}},
		{`C:\windows\system32\cmd.exe /q`, []string{`C:\windows\system32\cmd.exe`, "/q"}},
		{`"C:\Program Files\sh\cmd.exe" /q`, []string{`C:\Program Files\sh\cmd.exe`, "/q"}},
		{spaced, []string{spaced}},
	} {
		if got := comspecArgv(tc.comspec); !slices.Equal(got, tc.want) {
			t.Errorf("comspecArgv(%q) = %q, want %q", tc.comspec, got, tc.want)
		}
	}
}

// A string command runs through a %COMSPEC% whose path has a space.
func TestShellWithComspecInADirectoryWithASpace(t *testing.T) {
	orig, err := os.ReadFile(os.Getenv("COMSPEC"))
	if err != nil {
		t.Skip("cannot copy cmd.exe:", err)
	}
	spaced := filepath.Join(t.TempDir(), "my shell", "cmd.exe")
	if err := os.MkdirAll(filepath.Dir(spaced), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(spaced, orig, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("COMSPEC", spaced)
	argv, line := shellArgv("echo spaced-ok")
	if want := `"` + spaced + `" /c echo spaced-ok`; line != want {
		t.Errorf("command line %q, want %q", line, want)
	}
	path, err := lookPath(argv[0], "", "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := startChild(childSpec{path: path, argv: argv, cmdLine: line, dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer releaseTree(c)
	out, _ := io.ReadAll(c.stdout)
	<-c.exited
	c.stopReading()
	if string(out) != "spaced-ok\r\n" {
		t.Errorf("output %q", out)
	}
}
