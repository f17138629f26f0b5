package integration

import (
	"fmt"
	"strings"
	"testing"

	"github.com/buildslave/buildslave/internal/mastertest"
)

// TestParallelBuildsOnOneWorker runs three builds at once on one worker
// (max_builds=3). Each step waits for the other two to have started — a
// barrier in the filesystem — so the builds only succeed if the worker
// really runs them concurrently; a worker that serialised them would reach
// the step timeout instead.
func TestParallelBuildsOnOneWorker(t *testing.T) { forEachProtocol(t, testParallelBuildsOnOneWorker) }

func testParallelBuildsOnOneWorker(t *testing.T, protocol string) {
	barrier := t.TempDir()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "barrier = %s\n", mastertest.PyString(barrier))
	cfg.WriteString(`
def barrier_factory(me, others):
    wait = " && ".join('[ -e "%s/%s" ]' % (barrier, o) for o in others)
    script = 'touch "%s/%s"; i=0; until %s; do i=$((i+1)); [ $i -lt 600 ] || exit 1; sleep 0.1; done; echo %s passed' % (barrier, me, wait, me)
    f = util.BuildFactory()
    f.addStep(steps.ShellCommand(name="barrier", command=["sh", "-c", script], timeout=120))
    return f

names = ["p1", "p2", "p3"]
for n in names:
    c['builders'].append(util.BuilderConfig(name=n, workernames=["w1"],
        factory=barrier_factory(n, [o for o in names if o != n])))
`)
	m := mastertest.Start(t, mastertest.Options{
		Workers:         []mastertest.WorkerSpec{{Name: "w1", Password: "s3cret-pw", MaxBuilds: 3}},
		Builders:        cfg.String(),
		ForceSchedulers: []string{"p1", "p2", "p3"},
	})
	startOursOver(t, m, protocol, "w1", "s3cret-pw")
	ctx := testContext(t)
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	// Force all three before waiting for any, so that they can overlap.
	brids := map[string]int{}
	for _, b := range []string{"p1", "p2", "p3"} {
		res, err := m.Force(ctx, b, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, brid := range res.BuildRequests {
			brids[b] = brid
		}
	}
	for b, brid := range brids {
		id, err := m.WaitBuildStarted(ctx, brid)
		if err != nil {
			t.Fatal(err)
		}
		build, err := m.WaitBuild(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if build.Results != mastertest.SUCCESS {
			t.Errorf("build of %s: %v (%s); the builds did not run together", b, build.Results, build.StateString)
			continue
		}
		log, err := m.StepLog(ctx, id, "barrier", "stdio")
		if err != nil {
			t.Fatal(err)
		}
		stdio, err := m.StdioLog(ctx, log.LogID)
		if err != nil {
			t.Fatal(err)
		}
		if want := b + " passed\n"; stdio.Stdout() != want {
			t.Errorf("build of %s: stdout %q, want %q", b, stdio.Stdout(), want)
		}
	}
}
