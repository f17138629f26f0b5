//go:build linux

// Timer slack is Linux's, and these read /proc.

package integration

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/buildslave/buildslave/internal/mastertest"
)

// The worker's own threads run with a timer slack of 1 ms (see
// internal/timerslack), set by executing itself once at start; the
// processes of its builds get the slack it was started with.
func TestWorkerRelaxesItsTimersButNotItsBuilds(t *testing.T) {
	m := mastertest.Start(t, mastertest.Options{
		Workers: []mastertest.WorkerSpec{{Name: "w1", Password: "s3cret-pw"}},
		Builders: `
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="slack", command=["cat", "/proc/self/timerslack_ns"], logEnviron=False))
c['builders'].append(util.BuilderConfig(name="b1", workernames=["w1"], factory=f))
`,
		ForceSchedulers: []string{"b1"},
	})
	dir := createOurs(t, m.WorkerAddr(""))
	cmd, out, _ := runForeground(t, dir)
	ctx := testContext(t)
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// What this test process has is what it started the worker with.
	given := readSlack(t, "self")
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	// A coarser slack than 1 ms, from whoever started the tests, is kept.
	want := "1000000"
	if n, err := strconv.Atoi(given); err == nil && n > 1000000 {
		want = given
	}
	for _, task := range tasks {
		// /proc/TID/timerslack_ns is the thread's own.
		if got := readSlack(t, task.Name()); got != want {
			t.Errorf("worker thread %s: timer slack %s ns, want %s", task.Name(), got, want)
		}
	}
	if strings.Count(out.String(), "buildslave starting") != 1 {
		t.Errorf("the worker's start is not logged once:\n%s", out)
	}
	id := forceSuccess(t, ctx, m, "b1")
	if got := strings.TrimSpace(stepStdio(t, ctx, m, id, "slack").Stdout()); got != given {
		t.Errorf("a build's timer slack: %q ns, want the %s ns the worker was started with", got, given)
	}
}

func readSlack(t *testing.T, pid string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + pid + "/timerslack_ns")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
