package integration

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/buildslave/buildslave/internal/mastertest"
)

// shell4xSteps sends a 3.7 master's shell command with what a 4.x master
// adds: the max_lines key, always present (None by default). The step
// records the failure_reason updates the master received as a property,
// so that the test sees that a 3.x master takes them without complaint.
const shell4xSteps = `
from twisted.internet import defer
from buildbot.steps.shell import ShellCommand

class LimitedShell(ShellCommand):
    def __init__(self, max_lines=None, **kwargs):
        self.max_lines = max_lines
        super().__init__(logEnviron=False, **kwargs)

    @defer.inlineCallbacks
    def run(self):
        cmd = yield self.makeRemoteShellCommand()
        cmd.args['max_lines'] = self.max_lines
        yield self.runCommand(cmd)
        self.setProperty(self.name + "_failure_reason", cmd.updates.get('failure_reason'), "test")
        return cmd.results()

COUNT50 = "i=0; while [ $i -lt 50 ]; do i=$((i+1)); echo line $i; done; sleep 30"

def limits_factory(ours):
    f = util.BuildFactory()
    f.addStep(LimitedShell(name="under", max_lines=100, command=["sh", "-c", "echo a; echo b"]))
    f.addStep(LimitedShell(name="none", command=["seq", "1", "2000"]))
    f.addStep(LimitedShell(name="silent", command=["sleep", "30"], timeout=1))
    f.addStep(LimitedShell(name="maxtime", command=["sh", "-c", "while :; do echo tick; sleep 0.2; done"],
        maxTime=1))
    if ours:
        # The 3.7 reference ignores max_lines: it would sleep the 30 s out.
        f.addStep(LimitedShell(name="over", max_lines=10, command=["sh", "-c", COUNT50]))
    return f

c['builders'].append(util.BuilderConfig(name="ours", workernames=["gw"],
    workerbuilddir="bd", factory=limits_factory(True)))
c['builders'].append(util.BuilderConfig(name="reference", workernames=["pw"],
    workerbuilddir="bd", factory=limits_factory(False)))
`

var overHeaderRE = regexp.MustCompile(`\ncommand exceeds max lines: (\d+)/10 written/allowed running \[b'sh', b'-c', b'i=0; [^']*'\], attempting to kill\nprocess killed by signal 9\n`)

// TestShell4xLimitsOn37Master checks max_lines and the failure_reason
// updates against what buildbot-worker 4.3 does (runprocess.py: doTimeout,
// doMaxTimeout, _check_max_lines, do_max_lines; test_runprocess.py:
// testCommandTimeout, testCommandMaxTime, test_command_max_lines), on a
// real 3.7 master, which ignores the failure reasons: the steps end as
// with the 3.7 reference worker, with the same headers.
func TestShell4xLimitsOn37Master(t *testing.T) {
	forEachProtocol(t, testShell4xLimitsOn37Master)
}

func testShell4xLimitsOn37Master(t *testing.T, protocol string) {
	m, ours, ref := startBothOver(t, protocol, shell4xSteps, "ours", "reference")
	ctx := testContext(t)

	build, got := runShellBuild(t, m, "ours")
	want := map[string]mastertest.Result{
		"under": mastertest.SUCCESS, "none": mastertest.SUCCESS,
		"silent": mastertest.FAILURE, "maxtime": mastertest.FAILURE, "over": mastertest.FAILURE,
	}
	for step, w := range want {
		if got[step].result != w {
			t.Errorf("step %s: %v, want %v", step, got[step].result, w)
		}
	}
	props, err := m.BuildProperties(ctx, build.BuildID)
	if err != nil {
		t.Fatal(err)
	}
	for step, w := range map[string]any{
		"under": nil, "none": nil,
		"silent":  []any{"timeout_without_output"},
		"maxtime": []any{"timeout"},
		"over":    []any{"max_lines_failure"},
	} {
		if g := props[step+"_failure_reason"]; !equalJSON(g, w) {
			t.Errorf("step %s: the master received failure_reason %#v, want %#v", step, g, w)
		}
	}

	// Past the limit: the reference's header, the count of the lines sent,
	// and nothing sent after them (stdout is closed before the kill).
	over := got["over"].stdio
	mm := overHeaderRE.FindStringSubmatch(over.Header())
	if mm == nil {
		t.Fatalf("over: header %q", over.Header())
	}
	count, _ := strconv.Atoi(mm[1])
	lines := strings.Split(strings.TrimSuffix(over.Stdout(), "\n"), "\n")
	if count <= 10 || count > 50 || len(lines) != count {
		t.Errorf("over: header counts %d lines, %d sent: %q", count, len(lines), over.Stdout())
	}
	if lines[0] != "line 1" || lines[len(lines)-1] != "line "+strconv.Itoa(len(lines)) {
		t.Errorf("over: stdout %q", over.Stdout())
	}

	// The 3.7 reference on the same steps: the same results and headers,
	// no failure reasons.
	refBuild, refGot := runShellBuild(t, m, "reference")
	refProps, err := m.BuildProperties(ctx, refBuild.BuildID)
	if err != nil {
		t.Fatal(err)
	}
	delete(got, "over")
	for step, r := range refGot {
		g := got[step]
		if g.result != r.result {
			t.Errorf("step %s: %v, reference %v", step, g.result, r.result)
		}
		if o, p := normalize(g.stdio.Header(), ours.Dir), normalize(r.stdio.Header(), ref.Dir); o != p {
			t.Errorf("step %s: header\n%q\nreference\n%q", step, o, p)
		}
		if v := refProps[step+"_failure_reason"]; v != nil {
			t.Errorf("step %s: the 3.7 reference sent failure_reason %v", step, v)
		}
	}
	for _, step := range []string{"under", "none"} {
		if o, p := got[step].stdio.Stdout(), refGot[step].stdio.Stdout(); o != p {
			t.Errorf("step %s: stdout %q, reference %q", step, o, p)
		}
	}
}
