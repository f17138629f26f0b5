package integration

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/buildslave/buildslave/internal/mastertest"
)

// These tests cover the worker's life beyond start and stop: a master
// that goes away and comes back, a connection that goes silent, giving
// up, graceful shutdowns, stale pid files and log rotation.

// stampBuilder's step marks its start in the build directory, then takes a
// few seconds: long enough to ask for a shutdown while it runs.
const stampBuilder = `
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="slow", command=["sh", "-c", "touch started; sleep 3; echo done"]))
# A second step: a graceful shutdown must not cut the build between steps.
f.addStep(steps.ShellCommand(name="after", command=["echo", "after"]))
c['builders'].append(util.BuilderConfig(name="b1", workernames=["w1"], factory=f))
`

func stampBuilderMaster(t *testing.T) *mastertest.Master {
	return mastertest.Start(t, mastertest.Options{
		Workers:         []mastertest.WorkerSpec{{Name: "w1", Password: "s3cret-pw"}},
		Builders:        stampBuilder,
		ForceSchedulers: []string{"b1"},
	})
}

// waitFor polls check until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, check func() bool) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !check() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-tick.C:
		}
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func logContains(path, substr string) bool {
	data, err := os.ReadFile(path)
	return err == nil && strings.Contains(string(data), substr)
}

func TestReconnectAfterMasterRestart(t *testing.T) {
	forEachProtocol(t, testReconnectAfterMasterRestart)
}

func testReconnectAfterMasterRestart(t *testing.T, protocol string) {
	m := oneBuilderMaster(t)
	const maxDelay = 3
	w := startOursOver(t, m, protocol, "w1", "s3cret-pw", "--maxdelay="+strconv.Itoa(maxDelay))
	ctx := testContext(t)
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	forceSuccess(t, ctx, m, "b1")

	if err := m.StopProcess(); err != nil {
		t.Fatal(err)
	}
	// Down long enough for the backoff to reach its cap.
	waitFor(t, ctx, "the worker to retry with the capped delay", func() bool {
		return strings.Count(readLog(w), "reconnecting") >= 4
	})
	if err := m.StartAgain(ctx); err != nil {
		t.Fatal(err)
	}
	up := time.Now()
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	took := time.Since(up)
	t.Logf("master up → worker reconnected: %v (maxdelay %ds)", took.Round(time.Millisecond), maxDelay)
	// The cap plus a second of jitter, plus the REST polling and a busy
	// machine's slack.
	if limit := time.Duration(maxDelay+1)*time.Second + 10*time.Second; took > limit {
		t.Errorf("reconnected after %v, more than %v", took, limit)
	}
	if w.Exited() {
		t.Fatalf("the worker exited: %v", w.Err())
	}
	forceSuccess(t, ctx, m, "b1")
}

func readLog(w *mastertest.WorkerProcess) string {
	data, _ := os.ReadFile(w.LogPath())
	return string(data)
}

// silencer is a TCP proxy on 127.0.0.1 that can make the connections it
// carries go silent: the master's side is closed, the worker's side stays
// open and hears nothing more, as when a NAT or a firewall drops a
// connection without telling the worker.
type silencer struct {
	l        net.Listener
	upstream string

	mu    sync.Mutex
	pairs []*proxyPair
	// silenced keeps the worker's side of silenced connections reachable:
	// a socket nobody refers to is closed by its finalizer at the next
	// garbage collection, and the worker would hear an EOF instead of
	// silence.
	silenced []*proxyPair
	accepted []time.Time
}

type proxyPair struct {
	down, up net.Conn
	silent   chan struct{}
}

func newSilencer(t *testing.T, upstream string) *silencer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silencer{l: l, upstream: upstream}
	t.Cleanup(func() {
		l.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, p := range append(s.pairs, s.silenced...) {
			p.down.Close()
			p.up.Close()
		}
	})
	go s.serve()
	return s
}

func (s *silencer) addr() string { return s.l.Addr().String() }

func (s *silencer) serve() {
	for {
		down, err := s.l.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", s.upstream)
		if err != nil {
			down.Close()
			continue
		}
		p := &proxyPair{down: down, up: up, silent: make(chan struct{})}
		s.mu.Lock()
		s.pairs = append(s.pairs, p)
		s.accepted = append(s.accepted, time.Now())
		s.mu.Unlock()
		go func() {
			_, _ = io.Copy(up, down)
			up.Close()
		}()
		go func() {
			_, _ = io.Copy(down, up)
			select {
			case <-p.silent: // keep the worker's side open
			default:
				down.Close()
			}
		}()
	}
}

// silence makes every current connection go silent.
func (s *silencer) silence() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pairs {
		close(p.silent)
		p.up.Close()
	}
	s.silenced = append(s.silenced, s.pairs...)
	s.pairs = nil
}

// acceptedAfter returns the time of the first connection accepted after t.
func (s *silencer) acceptedAfter(t time.Time) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.accepted {
		if a.After(t) {
			return a, true
		}
	}
	return time.Time{}, false
}

// ourWorker is our worker run with `start --nodaemon` by the test, for
// settings that mastertest's helpers do not give, such as another master
// address.
type ourWorker struct {
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
	out  strings.Builder
	err  error
}

func createOurs(t *testing.T, master string, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "worker")
	args = append(append([]string{"create-worker", "-q"}, args...), dir, master, "w1", "s3cret-pw")
	if out, err := buildslave(t, args...); err != nil {
		t.Fatalf("create-worker: %v\n%s", err, out)
	}
	return dir
}

func runOurs(t *testing.T, dir string, env ...string) *ourWorker {
	t.Helper()
	w := &ourWorker{dir: dir, done: make(chan struct{})}
	w.cmd = exec.Command(binary, "start", "--nodaemon", "--quiet", dir)
	w.cmd.Stdout, w.cmd.Stderr = &w.out, &w.out
	w.cmd.Env = append(os.Environ(), env...)
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		w.err = w.cmd.Wait()
		close(w.done)
	}()
	t.Cleanup(func() {
		// Twice: the second signal stops a worker that is still busy, or
		// one over msgpack, where the first waits out the quiet period.
		for range 2 {
			_ = w.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-w.done:
				return
			case <-time.After(2 * time.Second):
			}
		}
		_ = w.cmd.Process.Kill()
		<-w.done
	})
	return w
}

// wait waits for the worker to exit and returns its exit status.
func (w *ourWorker) wait(t *testing.T, ctx context.Context) int {
	t.Helper()
	select {
	case <-w.done:
	case <-ctx.Done():
		t.Fatalf("the worker did not exit: %v\nlog:\n%s", ctx.Err(), w.log())
	}
	var exit *exec.ExitError
	if errors.As(w.err, &exit) {
		return exit.ExitCode()
	}
	if w.err != nil {
		t.Fatal(w.err)
	}
	return 0
}

func (w *ourWorker) log() string {
	data, _ := os.ReadFile(filepath.Join(w.dir, "twistd.log"))
	return string(data)
}

func TestSilentConnectionIsRedialled(t *testing.T) {
	forEachProtocol(t, testSilentConnectionIsRedialled)
}

func testSilentConnectionIsRedialled(t *testing.T, protocol string) {
	m := oneBuilderMaster(t)
	proxy := newSilencer(t, m.WorkerAddr(protocol))
	const keepalive = 1
	dir := createOurs(t, proxy.addr(), "--keepalive="+strconv.Itoa(keepalive), "--maxdelay=2", "--protocol="+protocol)
	w := runOurs(t, dir)
	ctx := testContext(t)
	// The master lists the worker while it attaches, before the login
	// completes; keepalives start only once the worker has logged in.
	waitFor(t, ctx, "the worker to log in", func() bool {
		return strings.Contains(w.log(), "Connected to buildmaster; worker is ready")
	})
	// And the master has attached it: silenced mid-attach, the master
	// may end the connection itself before any keepalive is missed.
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	silenced := time.Now()
	proxy.silence()
	var redialled time.Time
	waitFor(t, ctx, "the worker to dial again", func() bool {
		var ok bool
		redialled, ok = proxy.acceptedAfter(silenced)
		return ok
	})
	took := redialled.Sub(silenced)
	t.Logf("%s: connection silenced → worker re-dialled: %v (keepalive %ds)", protocol, took.Round(time.Millisecond), keepalive)
	// The keepalive deadline (5 s at least), one interval, the backoff.
	if limit := 15 * time.Second; took > limit {
		t.Errorf("re-dialled after %v, more than %v", took, limit)
	}
	if !strings.Contains(w.log(), "keepalive failed; dropping the connection") {
		t.Errorf("the log does not say why the connection was dropped:\n%s", w.log())
	}
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	forceSuccess(t, ctx, m, "b1")
}

func TestMaxRetriesExitStatus(t *testing.T) {
	forEachProtocol(t, testMaxRetriesExitStatus)
}

func testMaxRetriesExitStatus(t *testing.T, protocol string) {
	m := oneBuilderMaster(t)
	dir := filepath.Join(t.TempDir(), "worker")
	if out, err := buildslave(t, "create-worker", "-q", "--protocol="+protocol, "--maxretries=2", "--maxdelay=1", dir, m.WorkerAddr(protocol), "w1", "wrong-pw"); err != nil {
		t.Fatalf("create-worker: %v\n%s", err, out)
	}
	w := runOurs(t, dir)
	ctx := testContext(t)
	if code := w.wait(t, ctx); code != 3 {
		t.Errorf("exit status %d, want 3 (gave up after maxretries)\n%s", code, w.out.String())
	}
	log := w.log()
	if n := strings.Count(log, "unauthorized login"); n != 1 {
		t.Errorf("the refusal is logged %d times, want once:\n%s", n, log)
	}
	if !strings.Contains(log, "gave up after maxretries") {
		t.Errorf("the log does not say why the worker stopped:\n%s", log)
	}
}

func TestGracefulShutdownDuringBuild(t *testing.T) {
	for _, tc := range []struct {
		name, allow string
		ask         func(t *testing.T, w *mastertest.WorkerProcess)
		logged      string
		msgpack     bool // run over msgpack too
	}{
		{"SIGHUP", "signal", func(t *testing.T, w *mastertest.WorkerProcess) {
			if err := w.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
		}, "Initiating shutdown because we got SIGHUP", false},
		{"shutdown.stamp", "file", func(t *testing.T, w *mastertest.WorkerProcess) {
			if err := os.WriteFile(filepath.Join(w.Dir, "shutdown.stamp"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "shutdown.stamp was touched", true},
		{"SIGTERM", "", func(t *testing.T, w *mastertest.WorkerProcess) {
			// Without allow_shutdown = signal, SIGHUP is ignored...
			if err := w.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			waitFor(t, ctx, "the ignored SIGHUP to be logged", func() bool {
				return logContains(w.LogPath(), "ignoring SIGHUP")
			})
			// ...and the first SIGTERM is a graceful shutdown.
			if err := w.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
		}, "Initiating shutdown because we got SIGTERM", true},
	} {
		for _, protocol := range mastertest.Protocols {
			if protocol == msgpack && !tc.msgpack {
				continue // the same path after the CLI as SIGTERM
			}
			t.Run(tc.name+"/"+protocol, func(t *testing.T) { testGracefulShutdown(t, protocol, tc.allow, tc.ask, tc.logged) })
		}
	}
}

// testGracefulShutdown asks for a graceful shutdown while a build's first
// step runs: the build must finish, both steps, and the worker exit 0. Over
// PB the master tells the worker when; over msgpack, which cannot ask, the
// worker stops once no command has run for its quiet period.
func testGracefulShutdown(t *testing.T, protocol, allow string, ask func(t *testing.T, w *mastertest.WorkerProcess), logged string) {
	m := stampBuilderMaster(t)
	var args []string
	if allow != "" {
		args = append(args, "--allow-shutdown="+allow)
	}
	w := startOursOver(t, m, protocol, "w1", "s3cret-pw", args...)
	ctx := testContext(t)
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	id, err := m.ForceBuild(ctx, "b1", nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the step to start", func() bool {
		return fileExists(filepath.Join(w.Dir, "b1", "build", "started"))
	})
	ask(t, w)
	b, err := m.WaitBuild(ctx, id)
	if err != nil || b.Results != mastertest.SUCCESS {
		t.Fatalf("build = %+v, %v", b, err)
	}
	if stdio := stepStdio(t, ctx, m, id, "after"); stdio.Stdout() != "after\n" {
		t.Errorf("the step after the shutdown request: stdout %q", stdio.Stdout())
	}
	if err := w.Wait(ctx); err != nil {
		t.Fatalf("the worker's exit: %v\n%s", err, w.LogTail(30))
	}
	log := readLog(w)
	stopped := "worker shutting down on command from master"
	if protocol == msgpack {
		stopped = "no command has run for 10s: shutting down"
	}
	for _, want := range []string{logged, "Telling the master we want to shutdown", stopped} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	if fileExists(filepath.Join(w.Dir, "twistd.pid")) {
		t.Error("twistd.pid left behind")
	}
}

// PB only, as the other tests of the CLI and the process (pid and log
// files, daemon, umask, service): the protocol plays no part in them.
func TestRestartWithStalePidFile(t *testing.T) {
	m := oneBuilderMaster(t)
	dir := createOurs(t, m.PBAddr())
	t.Cleanup(func() { _, _ = buildslave(t, "stop", dir) })
	ctx := testContext(t)
	pidFile := filepath.Join(dir, "twistd.pid")

	// A pid whose process is gone, as after a crash or a reboot.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	// Another program's pid, as when a reboot gave it to someone else.
	other := exec.Command("sleep", "120")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Process.Kill(); _ = other.Wait() })

	for what, pid := range map[string]int{"dead": dead.Process.Pid, "another program's": other.Process.Pid} {
		if err := os.WriteFile(pidFile, []byte(strconv.Itoa(pid)), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := buildslave(t, "restart", dir)
		if err != nil {
			t.Fatalf("restart over a %s pid: %v\n%s", what, err, out)
		}
		if !strings.Contains(out, "Removing stale pidfile") || !strings.Contains(out, "appears to have (re)started correctly") {
			t.Errorf("restart over a %s pid said:\n%s", what, out)
		}
		if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
			t.Fatal(err)
		}
		if out, err := buildslave(t, "stop", dir); err != nil {
			t.Fatalf("stop: %v\n%s", err, out)
		}
		if err := m.WaitWorkerDisconnected(ctx, "w1"); err != nil {
			t.Fatal(err)
		}
	}
	if other.ProcessState != nil {
		t.Error("the other program was stopped")
	}
	if err := other.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the other program is gone: %v", err)
	}
}

// TestLogRotationKeepsTheOldLog starts a worker whose twistd.log is already
// past --log-size: the first line it logs moves the old log aside (sizes
// are rounded up to whole MiB, lumberjack's unit) and starts a fresh one.
// PB only: the log files are the process's, whatever the protocol.
func TestLogRotationKeepsTheOldLog(t *testing.T) {
	m := oneBuilderMaster(t)
	dir := filepath.Join(t.TempDir(), "worker")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := strings.Repeat("an old line of the previous run\n", 40000) // 1.3 MB
	if err := os.WriteFile(filepath.Join(dir, "twistd.log"), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	w := mastertest.RunWorker(t, m, mastertest.WorkerConfig{
		Program: binary, Dir: dir, Name: "w1", Password: "s3cret-pw",
		CreateArgs: []string{"--log-size=1000", "--log-count=2"},
	})
	ctx := testContext(t)
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	forceSuccess(t, ctx, m, "b1")
	rotated, _ := filepath.Glob(filepath.Join(w.Dir, "twistd-*.log"))
	if len(rotated) != 1 {
		t.Fatalf("rotated logs: %v, want the old log moved aside", rotated)
	}
	if data, err := os.ReadFile(rotated[0]); err != nil || string(data) != old {
		t.Errorf("the rotated log does not hold the old content (%d bytes, %v)", len(data), err)
	}
	current, err := os.ReadFile(w.LogPath())
	if err != nil || !strings.Contains(string(current), "Connected to buildmaster") || strings.Contains(string(current), "an old line") {
		t.Errorf("the new twistd.log is not this run's (%d bytes, %v)", len(current), err)
	}
}

// PB only: the log files are the process's, whatever the protocol.
func TestNoLogRotate(t *testing.T) {
	m := oneBuilderMaster(t)
	w := startOurs(t, m, "w1", "s3cret-pw", "--no-logrotate", "--log-size=100")
	ctx := testContext(t)
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	forceSuccess(t, ctx, m, "b1")
	fi, err := os.Stat(w.LogPath())
	if err != nil || fi.Size() <= 100 {
		t.Fatalf("twistd.log: %v, %v", fi, err)
	}
	if fileExists(w.LogPath() + ".1") {
		t.Error("the log was rotated despite --no-logrotate")
	}
}

func TestEnvironmentOverridesConfig(t *testing.T) { forEachProtocol(t, testEnvironmentOverridesConfig) }

// testEnvironmentOverridesConfig: the file says PB and another master;
// the environment, BUILDMASTER_PROTOCOL included, decides.
func testEnvironmentOverridesConfig(t *testing.T, protocol string) {
	m := mastertest.Start(t, mastertest.Options{
		Workers: []mastertest.WorkerSpec{{Name: "env-worker", Password: "env-pw-42"}},
		Builders: `
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="env", command=["sh", "-c", "echo pass=${WORKERPASS:-unset} name=$WORKERNAME"]))
c['builders'].append(util.BuilderConfig(name="b1", workernames=["env-worker"], factory=f))
`,
		ForceSchedulers: []string{"b1"},
	})
	// The file names another master, worker and password.
	dir := createOurs(t, "127.0.0.1:1")
	port := m.PBPort()
	if protocol == msgpack {
		port = m.MsgpackPort()
	}
	w := runOurs(t, dir, "BUILDMASTER=127.0.0.1", "BUILDMASTER_PORT="+strconv.Itoa(port),
		"WORKERNAME=env-worker", "WORKERPASS=env-pw-42", "BUILDMASTER_PROTOCOL="+protocol)
	ctx := testContext(t)
	if _, err := m.WaitWorkerConnected(ctx, "env-worker"); err != nil {
		t.Fatal(err)
	}
	id := forceSuccess(t, ctx, m, "b1")
	if got := stepStdio(t, ctx, m, id, "env").Stdout(); got != "pass=unset name=env-worker\n" {
		t.Errorf("the build saw %q; WORKERPASS must not reach it", got)
	}
	if !strings.Contains(w.log(), "config.protocol="+protocol) {
		t.Errorf("the worker did not take its protocol from BUILDMASTER_PROTOCOL:\n%s", w.log())
	}
	assertNoPassword(t, dir, "env-pw-42", "")
}
