//go:build unix

package command

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func latin1Env(t *testing.T) *Environment {
	env := testEnv(t)
	env.Encoding = "latin-1"
	return env
}

func TestShellLatin1(t *testing.T) {
	env := latin1Env(t)
	// The argument reaches the process as one byte; the process's bytes
	// come back as latin-1 text; stdin is encoded too.
	r := runShell(t, shellArgs("build", list("sh", "-c", `printf %s "$1" | od -An -tx1; printf '\351t\351\n'; cat`, "sh", "é"),
		"initial_stdin", "à\n"), env)
	if got := streamText(r.updates, "stdout"); got != " e9\nété\nà\n" {
		t.Errorf("stdout %q", got)
	}
	h := r.header()
	if !strings.Contains(h, ` b'sh', b'\xe9']`) || !strings.Contains(h, " writing 2 bytes to stdin\n") {
		t.Errorf("header %q", h)
	}
	checkEnd(t, r, 0, false)
}

func TestShellLatin1Logfile(t *testing.T) {
	env := latin1Env(t)
	wd := filepath.Join(env.Basedir, "build")
	r := runShell(t, shellArgs(wd, list("sh", "-c", `printf '\347a\n' > out.log`), "logfiles", map[string]any{"out": "out.log"}), env)
	var log string
	for _, u := range r.updates {
		if lt, ok := u.Value.(LogText); ok {
			log += lt.Text
		}
	}
	if log != "ça\n" {
		t.Errorf("log %q; updates %q", log, r.updates)
	}
}

func TestShellUnencodableArgumentFails(t *testing.T) {
	env := latin1Env(t)
	wd := filepath.Join(env.Basedir, "build")
	r := runShell(t, shellArgs(wd, list("touch", "x€")), env)
	if r.failure == nil || !strings.Contains(r.failure.Error(), `can't encode character '\u20ac'`) {
		t.Errorf("failure %v", r.failure)
	}
	// As the reference: nothing but elapsed, and nothing ran.
	if k := keys(r.updates); len(k) != 1 || k[0] != "elapsed" {
		t.Errorf("updates %q", r.updates)
	}
	if _, err := os.Stat(wd); !os.IsNotExist(err) {
		t.Errorf("workdir made: %v", err)
	}
}

func TestShellUnknownEncoding(t *testing.T) {
	env := testEnv(t)
	env.Encoding = "klingon"
	if _, err := NewRegistry().New("shell", shellArgs("build", list("true")), env); err == nil || !strings.Contains(err.Error(), "klingon") {
		t.Errorf("error %v", err)
	}
}
