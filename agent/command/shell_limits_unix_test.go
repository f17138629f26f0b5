//go:build unix

package command

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// indexOf returns the index of the first update with key whose value
// satisfies match, or -1.
func indexOf(updates []Update, key string, match func(any) bool) int {
	return slices.IndexFunc(updates, func(u Update) bool { return u.Key == key && match(u.Value) })
}

func containsText(s string) func(any) bool {
	return func(v any) bool { t, ok := v.(string); return ok && strings.Contains(t, s) }
}

// The failure reason goes out before the kill header, as the 4.3
// reference's doTimeout and doMaxTimeout send it (runprocess.py;
// test_runprocess.py testCommandTimeout, testCommandMaxTime).
func TestShellTimeoutFailureReason(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []any
		reason string
	}{
		{"no output", []any{"timeout", 0.2}, "timeout_without_output"},
		{"maxTime", []any{"timeout", nil, "maxTime", 0.2}, "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runShell(t, shellArgs("build", list("sleep", "30"), tc.args...), testEnv(t))
			reasons := valuesOf(r.updates, "failure_reason")
			if !slices.Equal(reasons, []any{tc.reason}) {
				t.Fatalf("failure_reason %v, want [%s]", reasons, tc.reason)
			}
			fr := indexOf(r.updates, "failure_reason", func(any) bool { return true })
			kill := indexOf(r.updates, "header", containsText("attempting to kill"))
			if kill < 0 || fr > kill {
				t.Errorf("failure_reason at %d, kill header at %d: want the reason first", fr, kill)
			}
			checkEnd(t, r, -1, false)
		})
	}
}

// Neither a normal end nor an interrupt sends a failure reason.
func TestShellNoFailureReason(t *testing.T) {
	r := runShell(t, shellArgs("build", list("echo", "hi"), "max_lines", nil), testEnv(t))
	if v := valuesOf(r.updates, "failure_reason"); len(v) != 0 {
		t.Errorf("failure_reason %v sent for a normal end", v)
	}
	checkEnd(t, r, 0, false)
}

var maxLinesHeaderRE = regexp.MustCompile(`\ncommand exceeds max lines: (\d+)/1 written/allowed running \[b'sh', b'-c', b'[^']*'\], attempting to kill\n`)

// Past max_lines the command is killed with the reference's header and
// failure reason (4.3 runprocess.py, _check_max_lines and do_max_lines;
// test_runprocess.py test_command_max_lines: five lines of "hello",
// max_lines 1, "hello\n" sent, rc -1, max_lines_failure).
func TestShellMaxLines(t *testing.T) {
	for _, stream := range []string{"stdout", "stderr"} {
		t.Run(stream, func(t *testing.T) {
			redirect := ""
			if stream == "stderr" {
				redirect = " >&2"
			}
			script := "for i in 1 2 3 4 5; do echo hello" + redirect + "; done; sleep 30"
			r := runShell(t, shellArgs("build", list("sh", "-c", script), "max_lines", int64(1)), testEnv(t))
			if got := valuesOf(r.updates, "failure_reason"); !slices.Equal(got, []any{"max_lines_failure"}) {
				t.Errorf("failure_reason %v", got)
			}
			m := maxLinesHeaderRE.FindStringSubmatch(r.header())
			if m == nil {
				t.Fatalf("no max lines header in %q", r.header())
			}
			if m[1] == "0" || m[1] == "1" {
				t.Errorf("count %s in the header; it must be past the limit", m[1])
			}
			if !strings.HasPrefix(streamText(r.updates, stream), "hello\n") {
				t.Errorf("%s %q, want the lines that went over", stream, streamText(r.updates, stream))
			}
			fr := indexOf(r.updates, "failure_reason", func(any) bool { return true })
			kill := indexOf(r.updates, "header", containsText("command exceeds max lines"))
			if fr > kill {
				t.Errorf("failure_reason at %d after the kill header at %d", fr, kill)
			}
			if !strings.Contains(r.header(), "process killed by signal 9\n") {
				t.Errorf("not killed: %q", r.header())
			}
			checkEnd(t, r, -1, false)
		})
	}
}

// Once the limit is passed no more output is read: a program writing
// without end sends at most the chunks in flight.
func TestShellMaxLinesStopsTheOutput(t *testing.T) {
	r := runShell(t, shellArgs("build", list("yes"), "max_lines", int64(100)), testEnv(t))
	lines := strings.Count(streamText(r.updates, "stdout"), "\n")
	if lines <= 100 || lines > 100+readChunk {
		t.Errorf("%d lines sent for max_lines 100", lines)
	}
	if got := valuesOf(r.updates, "failure_reason"); !slices.Equal(got, []any{"max_lines_failure"}) {
		t.Errorf("failure_reason %v", got)
	}
	checkEnd(t, r, -1, false)
}

// Only output that is sent counts (want_stdout false: the reference's
// addStdout counts inside "if self.sendStdout"); a CR LF pair is one line,
// a lone CR one more, as re.findall(r"\r\n|\r|\n") counts.
func TestShellMaxLinesCounting(t *testing.T) {
	r := runShell(t, shellArgs("build", list("sh", "-c", "seq 50"), "max_lines", int64(1), "want_stdout", false), testEnv(t))
	if v := valuesOf(r.updates, "failure_reason"); len(v) != 0 {
		t.Errorf("unsent output counted: %v", v)
	}
	checkEnd(t, r, 0, false)

	for _, tc := range []struct {
		chunk string
		want  int64
	}{{"a\r\nb\n", 2}, {"a\rb\r", 2}, {"\n\n\r\n\r", 4}, {"no end", 0}} {
		c := lineCounter{max: 100}
		if n, _ := c.add(tc.chunk); n != tc.want {
			t.Errorf("%q counts %d lines, want %d", tc.chunk, n, tc.want)
		}
	}
	c := lineCounter{max: 2}
	for i, want := range []bool{false, false, true, false} {
		if _, over := c.add("x\n"); over != want {
			t.Errorf("line %d: over %v, want %v (reported once)", i+1, over, want)
		}
	}
}

func TestShellMaxLinesBadValue(t *testing.T) {
	r := runShell(t, shellArgs("build", list("true"), "max_lines", "ten"), testEnv(t))
	if r.failure == nil || !strings.Contains(r.failure.Error(), "max_lines") {
		t.Errorf("failure %v, want one naming max_lines", r.failure)
	}
}
