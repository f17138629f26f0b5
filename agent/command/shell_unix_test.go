//go:build unix

package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testEnviron is a small, known worker environment, like the one the
// reference captures ran with.
var testEnviron = []string{"HOME=/tmp/bbcap/home", "LANG=C.UTF-8", "PATH=/usr/bin:/bin"}

// result is what a finished shell command reported.
type result struct {
	updates []Update
	failure error
}

func (r result) header() string { return streamText(r.updates, "header") }

// runShell runs a shell command through the runner, as the agent does.
func runShell(t *testing.T, args Args, env *Environment) result {
	t.Helper()
	cmd, err := NewRegistry().New("shell", args, env)
	if err != nil {
		t.Fatal(err)
	}
	sink := newFakeSink()
	Run(context.Background(), cmd, sink, nil)
	if !sink.completed {
		t.Fatal("not completed")
	}
	return result{updates: sink.updates(), failure: sink.failure}
}

// testEnv is an Environment with a temporary base directory.
func testEnv(t *testing.T) *Environment {
	return &Environment{Basedir: t.TempDir(), Environ: testEnviron}
}

// shellArgs are the arguments a 3.7 master sends, with overrides.
func shellArgs(workdir string, command any, more ...any) Args {
	a := Args{
		"workdir": workdir, "env": map[string]any{}, "want_stdout": true, "want_stderr": true,
		"logfiles": map[string]any{}, "timeout": int64(10), "maxTime": nil, "sigtermTime": nil,
		"usePTY": false, "logEnviron": false, "initial_stdin": nil, "interruptSignal": "KILL",
		"command": command,
	}
	for i := 0; i < len(more); i += 2 {
		a[more[i].(string)] = more[i+1]
	}
	return a
}

func list(words ...any) []any { return words }

var elapsedTimeRE = regexp.MustCompile(`^elapsedTime=\d+\.\d{6}\n$`)

// checkEnd checks the updates after the output: [signal header,] rc,
// elapsedTime, then elapsed unless interrupted.
func checkEnd(t *testing.T, r result, wantRC int, interrupted bool) {
	t.Helper()
	u := r.updates
	n := len(u)
	if !interrupted {
		if n == 0 || u[n-1].Key != "elapsed" {
			t.Fatalf("no elapsed at the end: %q", u)
		}
		n--
	}
	if n < 2 || u[n-2].Key != "rc" || u[n-1].Key != "header" {
		t.Fatalf("no rc and elapsedTime at the end: %q", u)
	}
	if u[n-2].Value != wantRC {
		t.Errorf("rc %v, want %d", u[n-2].Value, wantRC)
	}
	if !elapsedTimeRE.MatchString(u[n-1].Value.(string)) {
		t.Errorf("elapsedTime header %q", u[n-1].Value)
	}
	if r.failure != nil {
		t.Errorf("completed with failure %v", r.failure)
	}
}

func TestShellStringCommandHeader(t *testing.T) {
	// pb_main's string command with exit 3.
	env := testEnv(t)
	wd := filepath.Join(env.Basedir, "b2", "build")
	r := runShell(t, shellArgs(wd, "echo $FOO; exit 3", "env", map[string]any{"FOO": "from-env"},
		"timeout", int64(1200)), env)
	want := "echo $FOO; exit 3\n in dir " + wd + " (timeout 1200 secs)\n watching logfiles {}\n" +
		" argv: b'echo $FOO; exit 3'\n using PTY: False\n"
	if len(r.updates) != 5 || r.updates[0] != (Update{"header", want}) || r.updates[1] != (Update{"stdout", "from-env\n"}) {
		t.Errorf("got %q\nwant header %q", r.updates, want)
	}
	checkEnd(t, r, 3, false)
}

func TestShellListCommandWithEnvironment(t *testing.T) {
	// pb_main's first build: a list command, logEnviron, a log file, a
	// last line without newline.
	env := testEnv(t)
	wd := filepath.Join(env.Basedir, "b1", "build")
	script := "echo hello; echo oops 1>&2; echo line-in-logfile > my.log; echo content > out.txt; printf no-newline"
	r := runShell(t, shellArgs(wd, list("sh", "-c", script),
		"env", map[string]any{"FOO": "bar", "LISTVAR": list("/a", "/b"), "SUBST": "${HOME}-x"},
		"logfiles", map[string]any{"mylog": "my.log"}, "timeout", int64(300), "logEnviron", true), env)

	want := "sh -c 'echo hello; echo oops 1>&2; echo line-in-logfile > my.log; echo content > out.txt; printf no-newline'\n" +
		" in dir /tmp/bbcap/worker/b1/build (timeout 300 secs)\n" +
		" watching logfiles {'mylog': 'my.log'}\n" +
		" argv: [b'sh', b'-c', b'echo hello; echo oops 1>&2; echo line-in-logfile > my.log; echo content > out.txt; printf no-newline']\n" +
		" environment:\n  FOO=bar\n  HOME=/tmp/bbcap/home\n  LANG=C.UTF-8\n  LISTVAR=/a:/b\n  PATH=/usr/bin:/bin\n" +
		"  PWD=/tmp/bbcap/worker/b1/build\n  SUBST=/tmp/bbcap/home-x\n using PTY: False\n"
	want = strings.ReplaceAll(want, "/tmp/bbcap/worker/b1/build", wd)
	if r.updates[0] != (Update{"header", want}) {
		t.Errorf("header\n%q\nwant\n%q", r.updates[0].Value, want)
	}
	// Output order between the streams is up to the scheduler; within
	// each it is fixed, and the unterminated line comes after elapsed.
	var sawLog bool
	for _, u := range r.updates[1:4] {
		switch u.Key {
		case "stdout":
			if u.Value != "hello\n" {
				t.Errorf("stdout %q", u.Value)
			}
		case "stderr":
			if u.Value != "oops\n" {
				t.Errorf("stderr %q", u.Value)
			}
		case "log":
			sawLog = u.Value == LogText{"mylog", "line-in-logfile\n"}
		}
	}
	if !sawLog {
		t.Errorf("no log update: %q", r.updates)
	}
	last := r.updates[len(r.updates)-1]
	if last != (Update{"stdout", "no-newline\n"}) {
		t.Errorf("last update %q", last)
	}
	checkEnd(t, result{updates: r.updates[:len(r.updates)-1]}, 0, false)
}

func TestShellEnvironmentHeader(t *testing.T) {
	// The 3.7 harness's "env handling" case, to the byte.
	env := testEnv(t)
	env.Environ = append(env.Environ, "HARNESS_VAR=hv", "PYTHONPATH=/orig/pp")
	wd := filepath.Join(env.Basedir, "build")
	r := runShell(t, shellArgs(wd, list("true"), "logEnviron", true, "env", map[string]any{
		"PYTHONPATH": list("/a", "/b"), "HARNESS_VAR": nil, "X": "${HOME}:${NOPE}:$HOME", "L": list("p", "q"),
	}), env)
	want := "true\n in dir " + wd + " (timeout 10 secs)\n watching logfiles {}\n argv: [b'true']\n" +
		" environment:\n  HOME=/tmp/bbcap/home\n  L=p:q\n  LANG=C.UTF-8\n  PATH=/usr/bin:/bin\n" +
		"  PWD=" + wd + "\n  PYTHONPATH=/a:/b:/orig/pp\n  X=/tmp/bbcap/home::$HOME\n using PTY: False\n"
	if r.updates[0] != (Update{"header", want}) {
		t.Errorf("header\n%q\nwant\n%q", r.updates[0].Value, want)
	}
	checkEnd(t, r, 0, false)
}

func TestShellEnvironmentReachesTheProcess(t *testing.T) {
	env := testEnv(t)
	wd := filepath.Join(env.Basedir, "build")
	r := runShell(t, shellArgs(wd, `echo "$FOO|$X|$PWD|${GONE-unset}|$PYTHONPATH"`, "env", map[string]any{
		"FOO": "bar", "X": "${HOME}:$HOME", "GONE": nil, "PYTHONPATH": "/p",
	}), &Environment{Basedir: env.Basedir, Environ: append(testEnviron, "GONE=here")})
	if got, want := streamText(r.updates, "stdout"), "bar|/tmp/bbcap/home:$HOME|"+wd+"|unset|/p:\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
}

func TestShellBadEnvValue(t *testing.T) {
	env := testEnv(t)
	r := runShell(t, shellArgs("build", list("true"), "env", map[string]any{"K": int64(1)}), env)
	if k := strings.Join(keys(r.updates), " "); k != "elapsed" {
		t.Errorf("keys %s", k)
	}
	if r.failure == nil || r.failure.Error() != "'env' values must be strings or lists; key 'K' is incorrect" {
		t.Errorf("failure %v", r.failure)
	}
}

func TestShellWorkdir(t *testing.T) {
	env := testEnv(t)
	t.Run("relative to the base directory, created", func(t *testing.T) {
		r := runShell(t, shellArgs("b/build", list("pwd")), env)
		wd := filepath.Join(env.Basedir, "b", "build")
		if !strings.Contains(r.header(), " in dir "+wd+" (timeout") {
			t.Errorf("header %q", r.header())
		}
		real, err := filepath.EvalSymlinks(wd)
		if err != nil {
			t.Fatal(err)
		}
		if got := streamText(r.updates, "stdout"); got != wd+"\n" && got != real+"\n" {
			t.Errorf("ran in %q", got)
		}
	})
	t.Run("under a file", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(env.Basedir, "notadir"), nil, 0o666); err != nil {
			t.Fatal(err)
		}
		r := runShell(t, shellArgs("notadir/sub", list("true")), env)
		if k := strings.Join(keys(r.updates), " "); k != "elapsed" {
			t.Errorf("keys %s", k)
		}
		if !errors.Is(r.failure, syscall.ENOTDIR) {
			t.Errorf("failure %v", r.failure)
		}
	})
}

func TestShellWantStdoutFalse(t *testing.T) {
	r := runShell(t, shellArgs("build", list("sh", "-c", "echo hidden; echo shown >&2"), "want_stdout", false), testEnv(t))
	if k := strings.Join(keys(r.updates), " "); k != "header stderr rc header elapsed" {
		t.Errorf("keys %s", k)
	}
	if got := streamText(r.updates, "stderr"); got != "shown\n" {
		t.Errorf("stderr %q", got)
	}
}

func TestShellInitialStdin(t *testing.T) {
	// The 3.7 harness's initial_stdin case.
	env := testEnv(t)
	wd := filepath.Join(env.Basedir, "build")
	r := runShell(t, shellArgs(wd, list("cat"), "initial_stdin", "line1\nline2"), env)
	want := []Update{
		{"header", "cat\n in dir " + wd + " (timeout 10 secs)\n watching logfiles {}\n argv: [b'cat']\n" +
			" writing 11 bytes to stdin\n using PTY: False\n"},
		{"stdout", "line1\n"},
	}
	if len(r.updates) != 6 || r.updates[0] != want[0] || r.updates[1] != want[1] || r.updates[5] != (Update{"stdout", "line2\n"}) {
		t.Errorf("got %q", r.updates)
	}
	checkEnd(t, result{updates: r.updates[:5]}, 0, false)
}

func TestShellStdinIsClosed(t *testing.T) {
	r := runShell(t, shellArgs("build", list("cat")), testEnv(t))
	if got := streamText(r.updates, "stdout"); got != "" {
		t.Errorf("stdout %q", got)
	}
	checkEnd(t, r, 0, false)
}

func TestShellPTYRequest(t *testing.T) {
	// With initial_stdin the PTY request is refused, as the reference
	// refuses it: a warning that runs into the next line.
	env := testEnv(t)
	wd := filepath.Join(env.Basedir, "build")
	r := runShell(t, shellArgs(wd, list("cat"), "usePTY", true, "initial_stdin", "in"), env)
	want := "WARNING: disabling usePTY for this commandcat\n in dir " + wd +
		" (timeout 10 secs)\n watching logfiles {}\n argv: [b'cat']\n writing 2 bytes to stdin\n using PTY: False\n"
	if r.updates[0] != (Update{"header", want}) {
		t.Errorf("header %q", r.updates[0].Value)
	}
	r = runShell(t, shellArgs(wd, list("true"), "usePTY", "slave-config"), env)
	if r.failure == nil || !strings.Contains(r.failure.Error(), "usePTY") {
		t.Errorf("usePTY string: failure %v", r.failure)
	}
}

func TestShellObfuscated(t *testing.T) {
	r := runShell(t, shellArgs("build", list("echo", list("obfuscated", "realsecret", "XXXX"), "")), testEnv(t))
	if h := r.header(); !strings.HasPrefix(h, `echo XXXX ""`+"\n") || !strings.Contains(h, " argv: [b'echo', b'XXXX', b'']\n") {
		t.Errorf("header %q", h)
	}
	if got := streamText(r.updates, "stdout"); got != "realsecret \n" {
		t.Errorf("stdout %q", got)
	}
	r = runShell(t, shellArgs("build", list("echo", int64(3))), testEnv(t))
	if r.failure == nil {
		t.Error("a number in argv was accepted")
	}
}

func TestShellArgvAsBytes(t *testing.T) {
	r := runShell(t, shellArgs("build", list([]byte("printf"), []byte("%s|"), "a b", []byte("\xff"))), testEnv(t))
	if h := r.header(); !strings.HasPrefix(h, "printf '%s|' 'a b' '\ufffd'\n") || !strings.Contains(h, ` argv: [b'printf', b'%s|', b'a b', b'\xff']`) {
		t.Errorf("header %q", h)
	}
	if got := streamText(r.updates, "stdout"); got != "a b|\ufffd|\n" {
		t.Errorf("stdout %q", got)
	}
}

func TestShellExecFailure(t *testing.T) {
	// The 3.7 harness's nonexistent executable.
	env := testEnv(t)
	wd := filepath.Join(env.Basedir, "build")
	r := runShell(t, shellArgs(wd, list("/nonexistent/prog", "a")), env)
	want := "/nonexistent/prog a\n in dir " + wd + " (timeout 10 secs)\n watching logfiles {}\n" +
		" argv: [b'/nonexistent/prog', b'a']\n using PTY: False\n"
	if len(r.updates) != 5 || r.updates[0] != (Update{"header", want}) || r.updates[1].Key != "stderr" {
		t.Fatalf("got %q", r.updates)
	}
	if s := r.updates[1].Value.(string); !strings.Contains(s, "/nonexistent/prog") || !strings.HasSuffix(s, "\n") {
		t.Errorf("stderr %q", s)
	}
	checkEnd(t, r, 1, false)

	r = runShell(t, shellArgs(wd, list("/nonexistent/prog", list("obfuscated", "realsecret", "XXXX"))), env)
	if s := streamText(r.updates, "stderr"); strings.Contains(s, "realsecret") || !strings.Contains(s, "XXXX") {
		t.Errorf("stderr %q", s)
	}

	r = runShell(t, shellArgs(wd, list("no-such-program-here")), env)
	if s := streamText(r.updates, "stderr"); !strings.Contains(s, "not found") {
		t.Errorf("stderr %q", s)
	}
	checkEnd(t, r, 1, false)
}

func TestShellLookupUsesCommandPath(t *testing.T) {
	env := testEnv(t)
	bin := filepath.Join(env.Basedir, "bin")
	if err := os.Mkdir(bin, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "hello-tool"), []byte("#!/bin/sh\necho tool ran\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := runShell(t, shellArgs("build", list("hello-tool"), "env", map[string]any{"PATH": list(bin, "${PATH}")}), env)
	if got := streamText(r.updates, "stdout"); got != "tool ran\n" {
		t.Errorf("stdout %q, stderr %q", got, streamText(r.updates, "stderr"))
	}
}

func TestShellKilledBySignal(t *testing.T) {
	r := runShell(t, shellArgs("build", list("sh", "-c", "kill -9 $$")), testEnv(t))
	if h := r.header(); !strings.HasSuffix(h, "using PTY: False\nprocess killed by signal 9\n"+
		r.updates[len(r.updates)-2].Value.(string)) {
		t.Errorf("header %q", h)
	}
	checkEnd(t, r, -1, false)
}

func TestShellLargeOutput(t *testing.T) {
	const lines = 250000 // 3.25 MB
	r := runShell(t, shellArgs("build", list("awk", fmt.Sprintf(`BEGIN { for (i = 0; i < %d; i++) printf "line %%07d\n", i }`, lines))), testEnv(t))
	var want bytes.Buffer
	for i := range lines {
		fmt.Fprintf(&want, "line %07d\n", i)
	}
	if got := streamText(r.updates, "stdout"); got != want.String() {
		t.Errorf("got %d bytes, want %d, equal prefix %d", len(got), want.Len(), commonPrefix(got, want.String()))
	}
	checkEnd(t, r, 0, false)
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func TestShellLogfiles(t *testing.T) {
	env := testEnv(t)
	wd := filepath.Join(env.Basedir, "build")
	if err := os.MkdirAll(wd, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(wd, "stale.log"), []byte("old\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	r := runShell(t, shellArgs(wd, list("sh", "-c", "echo new > fresh.log; printf partial >> fresh.log"),
		"logfiles", map[string]any{"fresh": "fresh.log", "stale": map[string]any{"filename": "stale.log", "follow": true}}), env)
	if h := r.header(); !strings.Contains(h, " watching logfiles {'fresh': 'fresh.log', 'stale': {'filename': 'stale.log', 'follow': True}}\n") {
		t.Errorf("header %q", h)
	}
	var logs []LogText
	for _, u := range r.updates {
		if u.Key == "log" {
			logs = append(logs, u.Value.(LogText))
		}
	}
	if len(logs) != 2 || logs[0] != (LogText{"fresh", "new\n"}) || logs[1] != (LogText{"fresh", "partial\n"}) {
		t.Errorf("log updates %q", logs)
	}
}

// asyncRun is a shell command running in the background.
type asyncRun struct {
	cmd  *shell
	sink *fakeSink
	done chan struct{} // closed when Run has returned
	err  error         // what Run returned
}

// runShellAsync starts a shell command with an Output whose timer flushes
// at once, so that the test sees output while the command runs.
func runShellAsync(t *testing.T, ctx context.Context, args Args) *asyncRun {
	t.Helper()
	cmd, err := newShell(args, testEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	a := &asyncRun{cmd: cmd.(*shell), sink: newFakeSink(), done: make(chan struct{})}
	out := newOutput(ctx, a.sink, bufferSize, time.Millisecond)
	go func() {
		defer close(a.done)
		a.err = cmd.Run(ctx, out)
		_ = out.Finish(context.Background())
	}()
	t.Cleanup(func() {
		cmd.Interrupt("test over")
		<-a.done
	})
	return a
}

// wait waits for the command to end and returns Run's error.
func (a *asyncRun) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-a.done:
		return a.err
	case <-time.After(waitLimit):
		t.Fatal("the command did not end")
		return nil
	}
}

// processesWith lists the processes whose command line contains marker.
func processesWith(t *testing.T, marker string) []string {
	t.Helper()
	var found []string
	if dirs, err := os.ReadDir("/proc"); err == nil {
		for _, d := range dirs {
			if _, err := strconv.Atoi(d.Name()); err != nil {
				continue
			}
			b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
			if err == nil && bytes.Contains(b, []byte(marker)) {
				found = append(found, d.Name()+": "+string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
			}
		}
		return found
	}
	out, err := exec.Command("ps", "-A", "-o", "pid=,args=").Output()
	if err != nil {
		t.Skip("cannot list processes:", err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, marker) && !strings.Contains(l, " ps ") {
			found = append(found, l)
		}
	}
	return found
}

// waitGone waits until no process has marker in its command line. The
// killed processes disappear asynchronously, so this polls.
func waitGone(t *testing.T, marker string) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		left := processesWith(t, marker)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes left: %q", left)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// uniqueSleep is a sleep duration that identifies this test's processes.
func uniqueSleep() string {
	return fmt.Sprintf("1000.%d", time.Now().UnixNano()%1_000_000_000)
}

func TestShellInterruptKillsTree(t *testing.T) {
	marker := uniqueSleep()
	script := fmt.Sprintf("sleep %s & echo started; sleep %s", marker, marker)
	a := runShellAsync(t, context.Background(), shellArgs("build", list("sh", "-c", script)))
	a.sink.waitFor(t, "the start", func(u []Update) bool { return streamText(u, "stdout") == "started\n" })
	// The two sleeps, and the shell unless it has exec'd the last one.
	if n := len(processesWith(t, marker)); n < 2 {
		t.Fatalf("%d processes running before the interrupt, want the shell and two sleeps", n)
	}
	a.cmd.Interrupt("test")
	if err := a.wait(t); err != nil {
		t.Fatal(err)
	}
	if !a.cmd.Interrupted() {
		t.Error("not marked interrupted")
	}
	r := result{updates: a.sink.updates()}
	if h := r.header(); !strings.Contains(h, "\ncommand interrupted, attempting to kill\nprocess killed by signal 9\n") {
		t.Errorf("header %q", h)
	}
	checkEnd(t, r, -1, true)
	waitGone(t, marker)
}

func TestShellInterruptSignalTERM(t *testing.T) {
	a := runShellAsync(t, context.Background(),
		shellArgs("build", list("sh", "-c", "echo started; exec sleep 30"), "interruptSignal", "TERM"))
	a.sink.waitFor(t, "the start", func(u []Update) bool { return streamText(u, "stdout") != "" })
	a.cmd.Interrupt("test")
	if err := a.wait(t); err != nil {
		t.Fatal(err)
	}
	if h := streamText(a.sink.updates(), "header"); !strings.Contains(h, "process killed by signal 15\n") {
		t.Errorf("header %q", h)
	}
}

func TestShellContextCancelKills(t *testing.T) {
	marker := uniqueSleep()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := runShellAsync(t, ctx, shellArgs("build", list("sh", "-c", "echo started; sleep "+marker)))
	a.sink.waitFor(t, "the start", func(u []Update) bool { return streamText(u, "stdout") != "" })
	cancel()
	if err := a.wait(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v", err)
	}
	waitGone(t, marker)
}

func TestShellTimeouts(t *testing.T) {
	tests := []struct {
		name   string
		args   []any
		header string
	}{
		{"no output", []any{"timeout", 0.2},
			" (timeout 0.2 secs)\n watching logfiles {}\n argv: [b'sleep', b'30']\n using PTY: False\n" +
				"\ncommand timed out: 0.2 seconds without output running [b'sleep', b'30'], attempting to kill\n" +
				"process killed by signal 9\n"},
		{"maxTime", []any{"timeout", nil, "maxTime", 0.2},
			" (maxTime 0.2 secs)\n watching logfiles {}\n argv: [b'sleep', b'30']\n using PTY: False\n" +
				"\ncommand timed out: 0.2 seconds elapsed running [b'sleep', b'30'], attempting to kill\n" +
				"process killed by signal 9\n"},
		{"maxTime with sigtermTime", []any{"maxTime", 0.2, "sigtermTime", int64(10)},
			"\ncommand timed out: 0.2 seconds elapsed running [b'sleep', b'30'], attempting to kill\n" +
				"process killed by signal 15\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runShell(t, shellArgs("build", list("sleep", "30"), tt.args...), testEnv(t))
			h := r.header()
			h = h[:len(h)-len(r.updates[len(r.updates)-2].Value.(string))] // without elapsedTime
			if !strings.HasSuffix(h, tt.header) {
				t.Errorf("header %q\nwant suffix %q", h, tt.header)
			}
			checkEnd(t, r, -1, false)
		})
	}
}

func TestShellSigtermIgnored(t *testing.T) {
	// The harness's TERM-ignoring shell: SIGTERM, then after sigtermTime
	// the interruptSignal.
	r := runShell(t, shellArgs("build", list("sh", "-c", "trap '' TERM; sleep 30"), "timeout", 0.2, "sigtermTime", 0.2), testEnv(t))
	if h := r.header(); !strings.Contains(h, `, attempting to kill`+"\nprocess killed by signal 9\n") {
		t.Errorf("header %q", h)
	}
	checkEnd(t, r, -1, false)
}

func TestShellInterruptAfterTheEnd(t *testing.T) {
	a := runShellAsync(t, context.Background(), shellArgs("build", list("true")))
	if err := a.wait(t); err != nil {
		t.Fatal(err)
	}
	a.cmd.Interrupt("too late")
	if a.cmd.Interrupted() {
		t.Error("an interrupt after the end counts")
	}
}
