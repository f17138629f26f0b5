package mastertest_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/buildslave/buildslave/internal/mastertest"
)

// testTimeout bounds each test's interaction with the master once it runs;
// builds here take well under a second.
const testTimeout = 60 * time.Second

const shellBuilders = `
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="hello",
    command=["sh", "-c", "echo to-stdout; echo to-stderr >&2; printf no-newline"]))
f.addStep(steps.ShellCommand(name="prop", command=["echo", util.Property("greeting")]))
c['builders'].append(util.BuilderConfig(name="b1", workernames=["w1"], factory=f))

fail = util.BuildFactory()
fail.addStep(steps.ShellCommand(name="fail", command=["sh", "-c", "exit 3"]))
c['builders'].append(util.BuilderConfig(name="failing builder", workernames=["w1"], factory=fail))
`

// minimal is the smallest configuration a 3.7 master accepts: it refuses
// to start without a worker, a builder and a scheduler for every builder.
var minimal = mastertest.Options{
	Workers: []mastertest.WorkerSpec{{Name: "w1", Password: "right"}},
	Builders: `
c['builders'].append(util.BuilderConfig(name="idle", workernames=["w1"], factory=util.BuildFactory()))
`,
	ForceSchedulers: []string{"idle"},
}

func TestReferenceWorkerBuild(t *testing.T) {
	t.Parallel()
	m := mastertest.Start(t, mastertest.Options{
		Workers:         []mastertest.WorkerSpec{{Name: "w1", Password: "pass1", MaxBuilds: 1}},
		Builders:        shellBuilders,
		ForceSchedulers: []string{"b1", "failing builder"},
	})
	w := mastertest.RunReferenceWorker(t, m, "w1", "pass1")
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()

	worker, err := m.WaitWorkerConnected(ctx, "w1")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := worker.WorkerInfo["version"].(string); v == "" {
		t.Errorf("workerinfo has no version: %v", worker.WorkerInfo)
	}
	for _, key := range []string{"admin", "host"} {
		if _, ok := worker.WorkerInfo[key]; !ok {
			t.Errorf("workerinfo lacks %q: %v", key, worker.WorkerInfo)
		}
	}
	workers, err := m.Workers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(workers) != 1 || workers[0].Name != "w1" || !workers[0].Connected() {
		t.Errorf("Workers() = %+v, want w1 connected", workers)
	}

	const greeting = "hello, world: with spaces"
	id, err := m.ForceBuild(ctx, "b1", map[string]string{"greeting": greeting})
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.WaitBuild(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if b.Results != mastertest.SUCCESS || !b.Complete {
		t.Errorf("build %d: complete=%v results=%v (%s), want success", id, b.Complete, b.Results, b.StateString)
	}

	steps, err := m.Steps(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i, s := range steps {
		names = append(names, s.Name)
		if s.Number != i || s.Results != mastertest.SUCCESS {
			t.Errorf("step %d %q: number=%d results=%v", i, s.Name, s.Number, s.Results)
		}
	}
	if got, want := strings.Join(names, ","), "worker_preparation,hello,prop"; got != want {
		t.Errorf("steps = %s, want %s", got, want)
	}

	l, err := m.StepLog(ctx, id, "hello", "stdio")
	if err != nil {
		t.Fatal(err)
	}
	stdio, err := m.StdioLog(ctx, l.LogID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := stdio.Stdout(), "to-stdout\nno-newline\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if got, want := stdio.Stderr(), "to-stderr\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	if h := stdio.Header(); !strings.Contains(h, "program finished with exit code 0") {
		t.Errorf("header lacks exit code:\n%s", h)
	}
	contents, err := m.LogContents(ctx, l.LogID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(contents, "\noto-stdout\n") || !strings.Contains(contents, "\neto-stderr\n") {
		t.Errorf("stored contents lack prefixed lines:\n%s", contents)
	}
	text, err := m.LogText(ctx, l.LogID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "\nto-stdout\n") || !strings.Contains(text, "\nto-stderr\n") {
		t.Errorf("raw text lacks output lines:\n%s", text)
	}

	l, err = m.StepLog(ctx, id, "prop", "stdio")
	if err != nil {
		t.Fatal(err)
	}
	if stdio, err = m.StdioLog(ctx, l.LogID); err != nil {
		t.Fatal(err)
	}
	if got, want := stdio.Stdout(), greeting+"\n"; got != want {
		t.Errorf("property step stdout = %q, want %q", got, want)
	}
	props, err := m.BuildProperties(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if props["greeting"] != greeting || props["workername"] != "w1" || props["buildername"] != "b1" {
		t.Errorf("properties = %v", props)
	}

	// The master validates property names and answers with a JSON-RPC
	// error.
	_, err = m.Force(ctx, "b1", map[string]string{"bad name!": "x"})
	var rpcErr *mastertest.RPCError
	if !errors.As(err, &rpcErr) || !strings.Contains(string(rpcErr.Message), "bad property name") {
		t.Errorf("Force with a bad property name: %v, want a JSON-RPC validation error", err)
	}

	// A failing command fails the build; builder names need not be
	// identifiers.
	id, err = m.ForceBuild(ctx, "failing builder", nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = m.WaitBuild(ctx, id); err != nil {
		t.Fatal(err)
	}
	if b.Results != mastertest.FAILURE {
		t.Errorf("failing build: results=%v, want failure", b.Results)
	}

	if err := w.Stop(mastertest.DefaultStopTimeout); err != nil {
		t.Error(err)
	}
	if err := m.WaitWorkerDisconnected(ctx, "w1"); err != nil {
		t.Error(err)
	}
}

func TestWrongPasswordNeverConnects(t *testing.T) {
	t.Parallel()
	m := mastertest.Start(t, minimal)
	mastertest.RunReferenceWorker(t, m, "w1", "wrong")

	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	if err := m.WaitLog(ctx, "invalid login from user 'w1'"); err != nil {
		t.Fatal(err)
	}
	// Refused means not attached, now and after the worker's next retry.
	ctx, cancel = context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	worker, err := m.WaitWorkerConnected(ctx, "w1")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitWorkerConnected = %+v, %v; want deadline exceeded", worker, err)
	}
}

func TestCloseStopsMaster(t *testing.T) {
	t.Parallel()
	mastertest.SkipIfNoBuildbot(t)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	m, err := mastertest.New(ctx, minimal)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Builders(ctx); err != nil {
		t.Error(err)
	}
	if err := m.Close(); err != nil {
		t.Error(err)
	}
	if !m.Process().Exited() {
		t.Error("master still running after Close")
	}
	if c, err := net.Dial("tcp", m.PBAddr()); err == nil {
		c.Close()
		t.Errorf("PB port %s still accepts connections after Close", m.PBAddr())
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestConfigErrorReportsLog(t *testing.T) {
	t.Parallel()
	mastertest.SkipIfNoBuildbot(t)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	opts := minimal
	opts.ExtraConfig = "raise ValueError('deliberate config error')"
	m, err := mastertest.New(ctx, opts)
	if err == nil {
		m.Close()
		t.Fatal("New succeeded with a broken master.cfg")
	}
	if !strings.Contains(err.Error(), "deliberate config error") {
		t.Errorf("error does not quote the master's log: %v", err)
	}
}
