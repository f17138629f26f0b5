//go:build unix

package command

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// ttyScript reports whether stdin, stdout and stderr are terminals and
// whether the process has a controlling terminal, and writes to stderr.
const ttyScript = "if test -t 0 && test -t 1 && test -t 2; then echo tty; else echo no-tty; fi; " +
	"tty >/dev/null && echo has-ctty; echo to-stderr >&2"

func TestShellPTY(t *testing.T) {
	tests := []struct {
		usePTY         bool
		stdout, stderr string
	}{
		// Under a PTY stderr is the terminal too, so it arrives as stdout;
		// the terminal's \r\n comes out of the line splitting as \n.
		{true, "tty\nhas-ctty\nto-stderr\n", ""},
		{false, "no-tty\n", "to-stderr\n"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("usePTY=", tt.usePTY), func(t *testing.T) {
			r := runShell(t, shellArgs("build", ttyScript, "usePTY", tt.usePTY), testEnv(t))
			if got := streamText(r.updates, "stdout"); got != tt.stdout {
				t.Errorf("stdout %q, want %q", got, tt.stdout)
			}
			if got := streamText(r.updates, "stderr"); got != tt.stderr {
				t.Errorf("stderr %q, want %q", got, tt.stderr)
			}
			if want := fmt.Sprintf(" using PTY: %s\n", pyRepr(tt.usePTY)); !strings.Contains(r.header(), want) {
				t.Errorf("header lacks %q: %q", want, r.header())
			}
			checkEnd(t, r, 0, false)
		})
	}
}

func TestShellPTYExitStatus(t *testing.T) {
	r := runShell(t, shellArgs("build", "echo partial; exit 7", "usePTY", true), testEnv(t))
	checkEnd(t, r, 7, false)
	if got := streamText(r.updates, "stdout"); got != "partial\n" {
		t.Errorf("stdout %q", got)
	}
}

func TestShellPTYStdinIsTheTerminal(t *testing.T) {
	// Without initial_stdin a PTY command's stdin is the terminal, which
	// never reaches EOF: a command that reads it waits until the timeout,
	// as with the reference.
	r := runShell(t, shellArgs("build", list("cat"), "usePTY", true, "timeout", 0.3), testEnv(t))
	if h := r.header(); !strings.Contains(h, "command timed out: 0.3 seconds without output") {
		t.Errorf("header %q", h)
	}
	checkEnd(t, r, -1, false)
}

func TestShellPTYInterruptKillsTree(t *testing.T) {
	// The PTY child leads its own session, hence its own process group:
	// the kill reaches its background children too.
	marker := uniqueSleep()
	script := fmt.Sprintf("sleep %s & echo started; sleep %s", marker, marker)
	a := runShellAsync(t, context.Background(), shellArgs("build", list("sh", "-c", script), "usePTY", true))
	a.sink.waitFor(t, "the start", func(u []Update) bool { return streamText(u, "stdout") == "started\n" })
	if n := len(processesWith(t, marker)); n < 2 {
		t.Fatalf("%d processes running before the interrupt, want the shell and two sleeps", n)
	}
	a.cmd.Interrupt("test")
	if err := a.wait(t); err != nil {
		t.Fatal(err)
	}
	r := result{updates: a.sink.updates()}
	if h := r.header(); !strings.Contains(h, "\ncommand interrupted, attempting to kill\nprocess killed by signal 9\n") {
		t.Errorf("header %q", h)
	}
	checkEnd(t, r, -1, true)
	waitGone(t, marker)
}

func TestShellPTYLargeOutput(t *testing.T) {
	// Everything the command wrote arrives, although the terminal's end
	// reports an error rather than EOF once the command has closed it.
	r := runShell(t, shellArgs("build", list("seq", "1", "20000"), "usePTY", true), testEnv(t))
	var want strings.Builder
	for i := 1; i <= 20000; i++ {
		fmt.Fprintf(&want, "%d\n", i)
	}
	if got := streamText(r.updates, "stdout"); got != want.String() {
		t.Errorf("stdout has %d bytes, want %d", len(got), want.Len())
	}
	checkEnd(t, r, 0, false)
}
