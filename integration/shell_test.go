package integration

import (
	"fmt"
	"strings"
	"testing"

	"github.com/buildslave/buildslave/internal/mastertest"
)

// shellSteps is one factory, run by two builders: one on our worker, one on
// the Python reference worker. Both builders use the same builddir so that
// paths compare equal once each base directory is normalised away.
const shellSteps = `
def shell_factory():
    f = util.BuildFactory()
    f.addStep(steps.ShellCommand(name="argv",
        command=["sh", "-c", "echo hello; echo oops 1>&2; printf no-newline"]))
    f.addStep(steps.ShellCommand(name="string", command="echo $FOO; exit 3",
        env={"FOO": "from-env"}))
    f.addStep(steps.ShellCommand(name="env",
        command=["sh", "-c", "echo $LISTVAR; echo $SUBST; echo $DOLLAR; echo ${GONE-unset}"],
        env={"LISTVAR": ["/a", "/b"], "SUBST": "${HOME}-x", "DOLLAR": "$HOME", "GONE": None}))
    f.addStep(steps.ShellCommand(name="workdir", command=["sh", "-c", "pwd"], workdir="other/dir"))
    f.addStep(steps.ShellCommand(name="big", command=["seq", "1", "500000"]))
    return f

c['builders'].append(util.BuilderConfig(name="ours", workernames=["gw"],
    workerbuilddir="bd", factory=shell_factory()))
c['builders'].append(util.BuilderConfig(name="reference", workernames=["pw"],
    workerbuilddir="bd", factory=shell_factory()))
`

type stepOutcome struct {
	result mastertest.Result
	stdio  mastertest.StdioLog
}

func runShellBuild(t *testing.T, m *mastertest.Master, builder string) (mastertest.Build, map[string]stepOutcome) {
	t.Helper()
	ctx := testContext(t)
	id, err := m.ForceBuild(ctx, builder, nil)
	if err != nil {
		t.Fatal(err)
	}
	build, err := m.WaitBuild(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := m.Steps(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]stepOutcome{}
	for _, s := range steps {
		if s.Name == "worker_preparation" {
			continue
		}
		log, err := m.StepLog(ctx, id, s.Name, "stdio")
		if err != nil {
			t.Fatalf("step %s: %v", s.Name, err)
		}
		stdio, err := m.StdioLog(ctx, log.LogID)
		if err != nil {
			t.Fatalf("step %s: %v", s.Name, err)
		}
		out[s.Name] = stepOutcome{s.Results, stdio}
	}
	return build, out
}

func TestShellBuildsMatchReference(t *testing.T) { forEachProtocol(t, testShellBuildsMatchReference) }

func testShellBuildsMatchReference(t *testing.T, protocol string) {
	m, ours, ref := startBothOver(t, protocol, shellSteps, "ours", "reference")

	build, got := runShellBuild(t, m, "ours")
	if build.Results != mastertest.FAILURE {
		t.Errorf("build result = %v, want FAILURE (one step exits 3)", build.Results)
	}

	// What the master must have stored, stated outright.
	var want strings.Builder
	for i := 1; i <= 500000; i++ {
		fmt.Fprintf(&want, "%d\n", i)
	}
	expect := []struct {
		step           string
		result         mastertest.Result
		stdout, stderr string
	}{
		{"argv", mastertest.SUCCESS, "hello\nno-newline\n", "oops\n"},
		{"string", mastertest.FAILURE, "from-env\n", ""},
		{"workdir", mastertest.SUCCESS, ours.Dir + "/bd/other/dir\n", ""},
		{"big", mastertest.SUCCESS, want.String(), ""},
	}
	for _, e := range expect {
		g, ok := got[e.step]
		if !ok {
			t.Errorf("step %s missing", e.step)
			continue
		}
		if g.result != e.result {
			t.Errorf("step %s: result %v, want %v", e.step, g.result, e.result)
		}
		if g.stdio.Stdout() != e.stdout {
			t.Errorf("step %s: stdout %.200q, want %.200q", e.step, g.stdio.Stdout(), e.stdout)
		}
		if g.stdio.Stderr() != e.stderr {
			t.Errorf("step %s: stderr %q, want %q", e.step, g.stdio.Stderr(), e.stderr)
		}
	}
	if !strings.Contains(got["string"].stdio.Header(), "program finished with exit code 3") {
		t.Errorf("string step header:\n%s", got["string"].stdio.Header())
	}

	// The reference, on the same master and steps, is the judge of the rest:
	// results, output and the header the master shows.
	refBuild, want2 := runShellBuild(t, m, "reference")
	if refBuild.Results != build.Results {
		t.Errorf("build result %v, reference %v", build.Results, refBuild.Results)
	}
	compareWithReference(t, got, want2, ours, ref)
}
