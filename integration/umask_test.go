package integration

import (
	"path/filepath"
	"testing"

	"github.com/buildslave/buildslave/internal/mastertest"
)

// umaskSteps creates a file and a directory and reports their modes.
const umaskSteps = `
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="modes",
    command=["sh", "-c", "rm -rf f d; touch f; mkdir d; stat -c %a f d"]))
c['builders'].append(util.BuilderConfig(name="b1", workernames=["w1"], factory=f))
`

func umaskMaster(t *testing.T) *mastertest.Master {
	return mastertest.Start(t, mastertest.Options{
		Workers:         []mastertest.WorkerSpec{{Name: "w1", Password: "s3cret-pw"}},
		Builders:        umaskSteps,
		ForceSchedulers: []string{"b1"},
	})
}

// modesOfBuild forces a build and returns the step's stdout.
func modesOfBuild(t *testing.T, m *mastertest.Master) string {
	t.Helper()
	ctx := testContext(t)
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	id := forceSuccess(t, ctx, m, "b1")
	stdio := stepStdio(t, ctx, m, id, "modes")
	return stdio.Stdout()
}

// PB only, as TestDaemonDefaultUmaskIsPrivate: the umask is the
// process's, whatever the protocol.
func TestUmaskAppliesToBuilds(t *testing.T) {
	m := umaskMaster(t)
	startOurs(t, m, "w1", "s3cret-pw", "--umask=027")
	if got := modesOfBuild(t, m); got != "640\n750\n" {
		t.Errorf("modes with --umask=027: %q, want 640 and 750", got)
	}
}

// A worker started in the background without --umask runs with twistd's
// 077, so that builds' files are private, as with the reference.
func TestDaemonDefaultUmaskIsPrivate(t *testing.T) {
	m := umaskMaster(t)
	dir := filepath.Join(t.TempDir(), "worker")
	if out, err := buildslave(t, "create-worker", "-q", dir, m.PBAddr(), "w1", "s3cret-pw"); err != nil {
		t.Fatalf("create-worker: %v\n%s", err, out)
	}
	out, err := buildslave(t, "start", dir)
	t.Cleanup(func() { _, _ = buildslave(t, "stop", dir) })
	if err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	if got := modesOfBuild(t, m); got != "600\n700\n" {
		t.Errorf("modes of a background worker: %q, want 600 and 700", got)
	}
}
