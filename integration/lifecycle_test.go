package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/buildslave/buildslave/internal/mastertest"
)

// oneBuilder is the smallest master configuration a worker can attach to.
const oneBuilder = `
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="hello", command=["echo", "hello"]))
c['builders'].append(util.BuilderConfig(name="b1", workernames=["w1"], factory=f))
`

func oneBuilderMaster(t *testing.T) *mastertest.Master {
	return mastertest.Start(t, mastertest.Options{
		Workers:         []mastertest.WorkerSpec{{Name: "w1", Password: "s3cret-pw"}},
		Builders:        oneBuilder,
		ForceSchedulers: []string{"b1"},
	})
}

func TestWorkerInfoReachesMaster(t *testing.T) { forEachProtocol(t, testWorkerInfoReachesMaster) }

func testWorkerInfoReachesMaster(t *testing.T, protocol string) {
	m := mastertest.Start(t, mastertest.Options{
		Workers: []mastertest.WorkerSpec{{Name: "w1", Password: "s3cret-pw"}},
		// Worker info keys are reachable from steps as worker:KEY.
		Builders: `
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="info",
    command=["echo", util.Interpolate("%(worker:numcpus)s %(worker:system)s %(worker:basedir)s")]))
c['builders'].append(util.BuilderConfig(name="b1", workernames=["w1"], factory=f))
`,
		ForceSchedulers: []string{"b1"},
	})
	w := startOursOver(t, m, protocol, "w1", "s3cret-pw", "--numcpus=3")
	ctx := testContext(t)
	wk, err := m.WaitWorkerConnected(ctx, "w1")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"admin", "host"} {
		data, err := os.ReadFile(filepath.Join(w.Dir, "info", file))
		if err != nil {
			t.Fatal(err)
		}
		if got := wk.WorkerInfo[file]; got != string(data) {
			t.Errorf("workerinfo %s = %q, want the file's %q", file, got, data)
		}
	}
	if got := wk.WorkerInfo["version"]; got != "integration-test" {
		t.Errorf("version = %v", got)
	}
	// The master derives a build's properties from the worker info.
	id := forceSuccess(t, ctx, m, "b1")
	props, err := m.BuildProperties(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := props["workername"].(string); got != "w1" {
		t.Errorf("workername property = %v", props["workername"])
	}
	if got, _ := props["builddir"].(string); got != filepath.Join(w.Dir, "b1") {
		t.Errorf("builddir property = %v, want %s", props["builddir"], filepath.Join(w.Dir, "b1"))
	}
	// Unlike the reference, the configured CPU count is what the master sees.
	stdio := stepStdio(t, ctx, m, id, "info")
	if want := "3 posix " + w.Dir + "\n"; stdio.Stdout() != want {
		t.Errorf("worker:numcpus/system/basedir = %q, want %q", stdio.Stdout(), want)
	}
}

// PB only: daemonising, the pid file and stop are the CLI's, whatever the
// protocol (stop over msgpack: TestGracefulShutdownDuringBuild).
func TestDaemonStartAndStop(t *testing.T) {
	m := oneBuilderMaster(t)
	dir := filepath.Join(t.TempDir(), "worker")
	if out, err := buildslave(t, "create-worker", "-q", dir, m.PBAddr(), "w1", "s3cret-pw"); err != nil {
		t.Fatalf("create-worker: %v\n%s", err, out)
	}
	if out, err := buildslave(t, "create-worker", "-q", dir, m.PBAddr(), "w1", "s3cret-pw"); err != nil {
		t.Fatalf("create-worker again (same settings): %v\n%s", err, out)
	}
	out, err := buildslave(t, "start", dir)
	t.Cleanup(func() { _, _ = buildslave(t, "stop", dir) })
	if err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	ctx := testContext(t)
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	pid, err := os.ReadFile(filepath.Join(dir, "twistd.pid"))
	if err != nil || len(pid) == 0 {
		t.Fatalf("pid file: %q, %v", pid, err)
	}
	if out, err := buildslave(t, "start", dir); err == nil {
		t.Errorf("a second start succeeded while the worker runs:\n%s", out)
	}
	if out, err := buildslave(t, "stop", dir); err != nil {
		t.Fatalf("stop: %v\n%s", err, out)
	}
	if err := m.WaitWorkerDisconnected(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "twistd.pid")); !os.IsNotExist(err) {
		t.Errorf("pid file left after stop: %v", err)
	}
	assertNoPassword(t, dir, "s3cret-pw", out)
}

// A wrong password fails start with a clear line, but leaves the worker
// retrying with its backoff, as the reference does (the master's admin may
// be adding it right now); --maxretries ends it. The master logs each
// refused login; the worker logs the refusal once.
func TestWrongPasswordKeepsRetrying(t *testing.T) { forEachProtocol(t, testWrongPasswordKeepsRetrying) }

func testWrongPasswordKeepsRetrying(t *testing.T, protocol string) {
	m := oneBuilderMaster(t)
	dir := filepath.Join(t.TempDir(), "worker")
	if out, err := buildslave(t, "create-worker", "-q", "--maxretries=2", "--protocol="+protocol, dir, m.WorkerAddr(protocol), "w1", "wrong-pw-123"); err != nil {
		t.Fatalf("create-worker: %v\n%s", err, out)
	}
	out, err := buildslave(t, "start", dir)
	t.Cleanup(func() { _, _ = buildslave(t, "stop", dir) })
	if err == nil {
		t.Fatalf("start succeeded with a wrong password:\n%s", out)
	}
	// Progress lines, then the error: one line that says it all.
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	for _, want := range []string{
		"buildslave: login refused: ",
		"the master at " + m.WorkerAddr(protocol) + " refused the login of worker \"w1\"",
		"check workername and passwd in " + filepath.Join(dir, "buildslave.cfg"),
		"The worker keeps running in the background",
		"or 2 attempts have failed (maxretries)",
		"stop it with 'buildslave stop " + dir + "'",
	} {
		if !strings.Contains(last, want) {
			t.Errorf("start's last line lacks %q:\n%s", want, out)
		}
	}

	// The worker went on: a second refused login, then maxretries ended it.
	ctx := testContext(t)
	// Each attempt, as the master logs it: over msgpack every connection
	// is an attempt, refused with HTTP 401.
	refusal := "invalid login from user 'w1'"
	if protocol == msgpack {
		refusal = "Client connecting: tcp4:127.0.0.1:"
	}
	logins := func() int {
		b, _ := os.ReadFile(filepath.Join(m.Dir(), "twistd.log"))
		return strings.Count(string(b), refusal)
	}
	for logins() < 2 {
		select {
		case <-ctx.Done():
			t.Fatalf("the master saw %d refused logins, want 2 or more", logins())
		case <-time.After(100 * time.Millisecond):
		}
	}
	pidFile := filepath.Join(dir, "twistd.pid")
	for {
		if _, err := os.Stat(pidFile); os.IsNotExist(err) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the worker did not stop after maxretries")
		case <-time.After(100 * time.Millisecond):
		}
	}
	if n := logins(); n != 2 {
		t.Errorf("the master saw %d refused logins, want 2 (maxretries)", n)
	}
	log, err := os.ReadFile(filepath.Join(dir, "twistd.log"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(log), "unauthorized login"); n != 1 {
		t.Errorf("the worker logged the refusal %d times, want once:\n%s", n, log)
	}
	if !strings.Contains(string(log), "maxretries") {
		t.Errorf("the worker's log does not say maxretries ended it:\n%s", log)
	}
	assertNoPassword(t, dir, "wrong-pw-123", out)
}

func TestDuplicateNameIsRejected(t *testing.T) {
	m := oneBuilderMaster(t)
	startOurs(t, m, "w1", "s3cret-pw")
	ctx := testContext(t)
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "second")
	if out, err := buildslave(t, "create-worker", "-q", dir, m.PBAddr(), "w1", "s3cret-pw"); err != nil {
		t.Fatalf("create-worker: %v\n%s", err, out)
	}
	start := time.Now()
	out, err := buildslave(t, "start", "--nodaemon", dir)
	if err == nil {
		t.Fatalf("a duplicate worker kept running or exited 0:\n%s", out)
	}
	if !strings.Contains(out, "duplicate") && !strings.Contains(out, "already has a connected worker") {
		t.Errorf("the exit does not say the name is taken:\n%s", out)
	}
	t.Logf("duplicate rejected after %v", time.Since(start).Round(time.Millisecond))
	if w, err := m.Worker(ctx, "w1"); err != nil || !w.Connected() {
		t.Errorf("the first worker lost its connection: %+v, %v", w, err)
	}
}

// assertNoPassword checks every file of the basedir but the config, and the
// command output, for the password.
func assertNoPassword(t *testing.T, dir, password, output string) {
	t.Helper()
	if strings.Contains(output, password) {
		t.Errorf("command output contains the password:\n%s", output)
	}
	_ = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || filepath.Base(path) == "buildslave.cfg" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(data), password) {
			t.Errorf("%s contains the password", path)
		}
		return nil
	})
	st, err := os.Stat(filepath.Join(dir, "buildslave.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("config mode = %v, want 0600", st.Mode().Perm())
	}
}

// TestDuplicateNameOverMsgpack: the msgpack master refuses a second
// connection of a connected name with a bare Close frame before it starts
// attaching it. As over PB the duplicate stops, saying why (the reference
// retries every few seconds forever); the first worker keeps its
// connection.
func TestDuplicateNameOverMsgpack(t *testing.T) {
	m := oneBuilderMaster(t)
	startOursOver(t, m, msgpack, "w1", "s3cret-pw")
	ctx := testContext(t)
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	dir := createOurs(t, m.MsgpackAddr(), "--protocol="+msgpack)
	w := runOurs(t, dir)
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("duplicate's log:\n%s", w.log())
		}
	})
	if code := w.wait(t, wctx); code == 0 {
		t.Errorf("the duplicate exited 0")
	}
	log := w.log() + w.out.String()
	if !strings.Contains(log, "already has a connected worker") {
		t.Errorf("the duplicate's log does not say the name is taken:\n%s", log)
	}
	if strings.Contains(log, "worker is ready") {
		t.Errorf("the duplicate counted itself connected")
	}
	if wk, err := m.Worker(ctx, "w1"); err != nil || !wk.Connected() {
		t.Errorf("the first worker lost its connection: %+v, %v", wk, err)
	}
}
