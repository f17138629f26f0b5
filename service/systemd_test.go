package service

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// awkwardBasedir has what systemd would otherwise expand or split.
const awkwardBasedir = `/srv/my worker/100% "done" $HOME\x`

func TestSystemdUnit(t *testing.T) {
	d := Definition{Name: "buildslave-w1", Executable: "/usr/local/bin/buildslave", Basedir: awkwardBasedir, User: "bb"}
	text, err := SystemdUnit(d)
	if err != nil {
		t.Fatal(err)
	}
	unit, err := ParseSystemdUnit(text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	want := map[string]map[string]string{
		"Unit": {
			"Wants": "network-online.target",
			"After": "network-online.target",
		},
		"Service": {
			"Type":             "simple",
			"User":             "bb",
			"WorkingDirectory": strings.ReplaceAll(awkwardBasedir, "%", "%%"),
			"KillMode":         "mixed",
			"KillSignal":       "SIGTERM",
			"TimeoutStopSec":   "3600",
			"Restart":          "always",
			"RestartSec":       "30",
		},
		"Install": {"WantedBy": "multi-user.target"},
	}
	for section, keys := range want {
		for key, value := range keys {
			if got, ok := unit.Get(section, key); got != value {
				t.Errorf("[%s] %s = %q (present %v), want %q", section, key, got, ok, value)
			}
		}
	}
	if _, ok := unit.Get("Service", "PIDFile"); ok {
		t.Error("the unit has a PIDFile; the worker stays in the foreground as the main process")
	}
	exec, _ := unit.Get("Service", "ExecStart")
	argv, err := SplitSystemdCommand(exec)
	if err != nil {
		t.Fatal(err)
	}
	wantArgv := []string{d.Executable, "start", "--nodaemon", awkwardBasedir}
	if !slices.Equal(argv, wantArgv) {
		t.Errorf("ExecStart %s\nsplits into %q, want %q", exec, argv, wantArgv)
	}
}

func TestSystemdUnitWithoutUser(t *testing.T) {
	text, err := SystemdUnit(Definition{Name: "w", Executable: "/bin/buildslave", Basedir: "/w"})
	if err != nil {
		t.Fatal(err)
	}
	unit, err := ParseSystemdUnit(text)
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := unit.Get("Service", "User"); ok {
		t.Errorf("User = %q, want none (root)", u)
	}
}

// TestSystemdAnalyzeVerify has systemd itself check the unit, where its
// tools are installed.
func TestSystemdAnalyzeVerify(t *testing.T) {
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	basedir := filepath.Join(dir, "my worker 100%")
	d := Definition{Name: "buildslave-verify", Executable: exe, Basedir: basedir, User: me.Username}
	text, err := SystemdUnit(d)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, d.Name+".service")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, tool, "verify", path).CombinedOutput()
	// Without a running systemd, verify still checks the unit's syntax
	// and its ExecStart program, and names the unit in what it finds
	// wrong; it may also complain about the host's own units, which are
	// not ours to judge.
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, d.Name) {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
	if err != nil {
		t.Logf("systemd-analyze verify exited with %v:\n%s", err, out)
	}
}

func TestSplitSystemdCommand(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`/a/b start`, []string{"/a/b", "start"}},
		{`  /a/b   "x y"  'z w' `, []string{"/a/b", "x y", "z w"}},
		{`/a "q\"uote\\" 100%% $$HOME`, []string{"/a", `q"uote\`, "100%", "$HOME"}},
	} {
		got, err := SplitSystemdCommand(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("SplitSystemdCommand(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{``, `"open`, `/a 100%`, `/a $HOME`, `-/a`, `/a "x\`} {
		if got, err := SplitSystemdCommand(bad); err == nil {
			t.Errorf("SplitSystemdCommand(%q) = %q, want an error", bad, got)
		}
	}
}

func TestParseSystemdUnitErrors(t *testing.T) {
	for _, bad := range []string{"Key=outside", "[Unit]\nno equals", "[Unit\nA=b"} {
		if _, err := ParseSystemdUnit(bad); err == nil {
			t.Errorf("ParseSystemdUnit(%q) succeeded", bad)
		}
	}
}
