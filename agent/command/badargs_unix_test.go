//go:build unix

package command

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An env key with '=' would set another variable ("A" to "B=c"); the
// reference's exec refuses it and its child exits 1, and so does ours,
// without running anything.
func TestShellEnvNameWithEquals(t *testing.T) {
	env := testEnv(t)
	wd := filepath.Join(env.Basedir, "build")
	for _, name := range []string{"A=B", "", "N\x00UL"} {
		r := runShell(t, shellArgs(wd, list("/bin/sh", "-c", "touch ran; echo \"[$A]\""), "env", map[string]any{name: "c"}), env)
		if s := streamText(r.updates, "stderr"); !strings.Contains(s, "illegal environment variable name") {
			t.Errorf("%q: stderr %q", name, s)
		}
		if s := streamText(r.updates, "stdout"); s != "" {
			t.Errorf("%q: the command ran: stdout %q", name, s)
		}
		checkEnd(t, r, 1, false)
	}
	if _, err := os.Stat(filepath.Join(wd, "ran")); err == nil {
		t.Error("the command ran")
	}
}

// A negative limit fails the command (the reference fails it too) and
// nothing runs.
func TestShellNegativeLimitsFail(t *testing.T) {
	env := testEnv(t)
	wd := filepath.Join(env.Basedir, "build")
	for _, kv := range [][2]any{{"timeout", int64(-1)}, {"maxTime", int64(-5)}, {"sigtermTime", -0.5}} {
		r := runShell(t, shellArgs(wd, list("/bin/sh", "-c", "touch ran"), kv[0], kv[1]), env)
		if r.failure == nil || !strings.Contains(r.failure.Error(), kv[0].(string)) {
			t.Errorf("%s=%v: failure %v, want one naming the argument", kv[0], kv[1], r.failure)
		}
	}
	if _, err := os.Stat(filepath.Join(wd, "ran")); err == nil {
		t.Error("a command with a negative limit ran")
	}
}
