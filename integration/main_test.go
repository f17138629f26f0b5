// Package integration tests the buildslave binary as a volunteer uses it —
// create-worker, start, stop — against real Buildbot masters, beside
// Buildbot's own Python worker where a comparison says more than a fixed
// expectation.
package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/buildslave/buildslave/internal/mastertest"
	"github.com/buildslave/buildslave/internal/pgtest"
)

// binary is the buildslave executable built once for the whole package.
var binary string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "buildslave-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	defer pgtest.Stop()
	binary = filepath.Join(dir, "buildslave")
	build := exec.Command("go", "build", "-race", "-ldflags", "-X main.version=integration-test", "-o", binary, "../cmd/buildslave")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building buildslave:", err)
		return 1
	}
	return m.Run()
}

// testContext bounds one test's waits on the master.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// buildslave runs our binary to completion and returns its combined output.
func buildslave(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, args...).CombinedOutput()
	return string(out), err
}

// startOurs creates and starts our worker in the foreground, stopped when
// the test ends.
func startOurs(t *testing.T, m *mastertest.Master, name, password string, createArgs ...string) *mastertest.WorkerProcess {
	t.Helper()
	return startOursOver(t, m, "", name, password, createArgs...)
}

// startOursOver is startOurs over protocol ("" for the default, PB).
func startOursOver(t *testing.T, m *mastertest.Master, protocol, name, password string, createArgs ...string) *mastertest.WorkerProcess {
	t.Helper()
	w := mastertest.RunWorker(t, m, mastertest.WorkerConfig{
		Program:    binary,
		Name:       name,
		Password:   password,
		CreateArgs: createArgs,
		Protocol:   protocol,
	})
	if protocol == msgpack {
		// Run before RunWorker's cleanup, which stops the worker with one
		// SIGTERM: over msgpack that waits until no command has run for
		// the quiet period (10 s; no master can be asked), a wait each
		// test would pay for nothing.
		t.Cleanup(func() { stopAtOnce(w) })
	}
	return w
}

// stopAtOnce stops our worker as a second SIGTERM does: now, without the
// graceful shutdown the first asks for. The second signal waits a moment
// after the first, so that the kernel does not merge the two.
func stopAtOnce(w *mastertest.WorkerProcess) {
	for range 2 {
		if w.Exited() || w.Signal(syscall.SIGTERM) != nil {
			return
		}
		select {
		case <-w.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// forEachProtocol runs a protocol-neutral test once over each protocol the
// master serves, as subtests named after the protocol.
func forEachProtocol(t *testing.T, test func(t *testing.T, protocol string)) {
	for _, p := range mastertest.Protocols {
		t.Run(p, func(t *testing.T) { test(t, p) })
	}
}

const msgpack = "msgpack_experimental_v7"

// Known defects of Buildbot 3.7's msgpack master (MSGPACK.md §3.3). Tests
// state what the master does because of them, the same for the reference
// worker, instead of skipping what they touch.
const (
	downloadDefect = "the msgpack master discards the data its update_read_file reads and answers None: " +
		"every download over msgpack arrives as an empty file, on the reference worker too"
	utimeDefect = "the 3.7 msgpack master calls remote_utime with the wrong arguments: " +
		"update_upload_file_utime fails, so an upload with keepstamp=True fails, on the reference worker too"
)

// expectMasterDefect records that what follows expects a master defect's
// outcome rather than the correct one.
func expectMasterDefect(t *testing.T, defect string) {
	t.Helper()
	t.Logf("expected failure of the master, not of the worker: %s", defect)
}

// normalize makes logs of two workers comparable: their base directories
// and timings differ by nature.
func normalize(text, basedir string) string {
	text = strings.ReplaceAll(text, basedir, "BASEDIR")
	var out []string
	for _, line := range strings.SplitAfter(text, "\n") {
		if strings.HasPrefix(line, "elapsedTime=") {
			line = "elapsedTime=X\n"
		}
		out = append(out, line)
	}
	return strings.Join(out, "")
}

// forceSuccess forces a build of builder and fails the test unless it
// succeeds; it returns the build's id.
func forceSuccess(t *testing.T, ctx context.Context, m *mastertest.Master, builder string) int {
	t.Helper()
	id, err := m.ForceBuild(ctx, builder, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := m.WaitBuild(ctx, id); err != nil || b.Results != mastertest.SUCCESS {
		t.Fatalf("build of %s = %+v, %v; want SUCCESS", builder, b, err)
	}
	return id
}

// stepStdio returns the stdio log the master stored for a step of a build.
func stepStdio(t *testing.T, ctx context.Context, m *mastertest.Master, buildID int, step string) mastertest.StdioLog {
	t.Helper()
	log, err := m.StepLog(ctx, buildID, step, "stdio")
	if err != nil {
		t.Fatal(err)
	}
	stdio, err := m.StdioLog(ctx, log.LogID)
	if err != nil {
		t.Fatal(err)
	}
	return stdio
}

// startBothOver starts a master with two workers, ours ("gw") and the
// Python reference ("pw"), both speaking protocol ("" for PB), and waits
// for both to connect. Builders usually run one factory twice, on builders
// "ours" and "reference".
func startBothOver(t *testing.T, protocol, builders string, forced ...string) (m *mastertest.Master, ours, ref *mastertest.WorkerProcess) {
	t.Helper()
	m = mastertest.Start(t, mastertest.Options{
		Workers: []mastertest.WorkerSpec{
			{Name: "gw", Password: "go-pass"},
			{Name: "pw", Password: "py-pass"},
		},
		Builders:        builders,
		ForceSchedulers: forced,
	})
	ours = startOursOver(t, m, protocol, "gw", "go-pass")
	ref = mastertest.RunWorker(t, m, mastertest.WorkerConfig{Name: "pw", Password: "py-pass", Protocol: protocol})
	ctx := testContext(t)
	for _, name := range []string{"gw", "pw"} {
		if _, err := m.WaitWorkerConnected(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	return m, ours, ref
}

// compareWithReference compares, step by step, the results and the stdio
// streams of a build on our worker with the same build on the reference,
// once base directories and timings are normalised away. noStdout names
// steps whose stdout differs by design and is checked elsewhere.
func compareWithReference(t *testing.T, got, want map[string]stepOutcome, ours, ref *mastertest.WorkerProcess, noStdout ...string) {
	t.Helper()
	for step, r := range want {
		g, ok := got[step]
		if !ok {
			t.Errorf("step %s: missing on our worker", step)
			continue
		}
		if g.result != r.result {
			t.Errorf("step %s: result %v, reference %v", step, g.result, r.result)
		}
		streams := []struct{ name, ours, ref string }{
			{"stderr", g.stdio.Stderr(), r.stdio.Stderr()},
			{"header", g.stdio.Header(), r.stdio.Header()},
		}
		if !slices.Contains(noStdout, step) {
			streams = append(streams, struct{ name, ours, ref string }{"stdout", g.stdio.Stdout(), r.stdio.Stdout()})
		}
		for _, s := range streams {
			if o, p := normalize(s.ours, ours.Dir), normalize(s.ref, ref.Dir); o != p {
				t.Errorf("step %s: %s differs from the reference\nours:\n%.2000q\nreference:\n%.2000q", step, s.name, o, p)
			}
		}
	}
}
