//go:build linux

package integration

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/buildslave/buildslave/internal/mastertest"
	"github.com/buildslave/buildslave/internal/syncbuf"
	"github.com/buildslave/buildslave/service"
)

// serviceSlowBuilder's build is still running when the service is stopped.
const serviceSlowBuilder = `
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="slow", command=["sh", "-c", "sleep 3; echo finished"]))
c['builders'].append(util.BuilderConfig(name="b1", workernames=["w1"], factory=f))
`

// TestServiceUnitRunsWorker starts the worker exactly as systemd would
// from 'service install --dry-run' (ExecStart's argv, WorkingDirectory,
// User and systemd's environment), sees it run a build for a real master,
// then stops it as systemd does (KillSignal to the main process) while a
// build runs: the build finishes and the worker exits cleanly. PB only:
// the unit does not depend on the protocol, and SIGTERM during a build
// over msgpack is TestGracefulShutdownDuringBuild's.
func TestServiceUnitRunsWorker(t *testing.T) {
	m := mastertest.Start(t, mastertest.Options{
		Workers:         []mastertest.WorkerSpec{{Name: "w1", Password: "s3cret-pw"}},
		Builders:        serviceSlowBuilder,
		ForceSchedulers: []string{"b1"},
	})
	ctx := testContext(t)
	dir := filepath.Join(t.TempDir(), "worker")
	if out, err := buildslave(t, "create-worker", "-q", dir, m.PBAddr(), "w1", "s3cret-pw"); err != nil {
		t.Fatalf("create-worker: %v\n%s", err, out)
	}
	// A relative BASEDIR, as a person types it: the unit must hold the
	// absolute one.
	dryRun := exec.Command(binary, "service", "install", "--dry-run", "--manager", "systemd", filepath.Base(dir))
	dryRun.Dir = filepath.Dir(dir)
	text, err := dryRun.Output()
	if err != nil {
		t.Fatalf("service install --dry-run: %v", err)
	}
	unit, err := service.ParseSystemdUnit(string(text))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	execStart, _ := unit.Get("Service", "ExecStart")
	argv, err := service.SplitSystemdCommand(execStart)
	if err != nil {
		t.Fatal(err)
	}
	workdir, _ := unit.Get("Service", "WorkingDirectory")
	userName, _ := unit.Get("Service", "User")
	if argv[0] != binary || workdir != dir {
		t.Fatalf("the unit runs %q in %q, want %s in %s", argv, workdir, binary, dir)
	}
	if ks, _ := unit.Get("Service", "KillSignal"); ks != "SIGTERM" {
		t.Fatalf("KillSignal = %q; this test stops the worker with SIGTERM", ks)
	}
	// The unit runs the worker as the owner of its configuration, which
	// create-worker just made: this test's user. Tests do not switch users.
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if userName != me.Username {
		t.Fatalf("User = %q, want the configuration's owner %q", userName, me.Username)
	}

	w := startAsSystemd(t, argv, workdir, me)
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatalf("%v\nworker log:\n%s", err, workerLogTail(filepath.Join(dir, "twistd.log")))
	}
	id, err := m.ForceBuild(ctx, "b1", nil)
	if err != nil {
		t.Fatal(err)
	}
	// systemctl stop: KillMode=mixed sends KillSignal to the main process
	// only.
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	b, err := m.WaitBuild(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if b.Results != mastertest.SUCCESS {
		t.Errorf("the build running when the service stopped ended %v, want SUCCESS", b.Results)
	}
	log, err := m.StepLog(ctx, id, "slow", "stdio")
	if err != nil {
		t.Fatal(err)
	}
	if stdio, err := m.StdioLog(ctx, log.LogID); err != nil || stdio.Stdout() != "finished\n" {
		t.Errorf("step output %q, %v", stdio.Stdout(), err)
	}
	select {
	case <-w.done:
	case <-ctx.Done():
		t.Fatalf("the worker did not exit after SIGTERM\nworker log:\n%s", workerLogTail(filepath.Join(dir, "twistd.log")))
	}
	if w.err != nil {
		t.Errorf("the worker exited with %v after SIGTERM; systemd would count the stop as a failure\n%s", w.err, w.out.String())
	}
	if err := m.WaitWorkerDisconnected(ctx, "w1"); err != nil {
		t.Error(err)
	}
}

// systemdWorker is a worker process started as systemd starts a unit.
type systemdWorker struct {
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	done chan struct{}
	err  error // valid once done is closed
}

// startAsSystemd runs argv in workdir with the environment systemd gives a
// service with User= (and no Environment=), in a process group of its own
// that the test kills at the end, as systemd's final SIGKILL does.
func startAsSystemd(t *testing.T, argv []string, workdir string, u *user.User) *systemdWorker {
	t.Helper()
	shell := os.Getenv("SHELL")
	if shell == "" {
		shell = "/bin/sh"
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = workdir
	cmd.Env = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + u.HomeDir, "USER=" + u.Username, "LOGNAME=" + u.Username, "SHELL=" + shell,
	}
	w := &systemdWorker{cmd: cmd, out: &syncbuf.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = w.out, w.out // the journal
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		w.err = cmd.Wait()
		close(w.done)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-w.done
	})
	return w
}

// workerLogTail returns the end of a log for a failure message.
func workerLogTail(path string) string {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "(no log)"
	}
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return strings.TrimSpace(string(data))
}

// TestBootHookCronLine: the line cron runs at boot names the built
// program and the worker directory by absolute paths (no master, no
// protocol).
func TestBootHookCronLine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "worker")
	if out, err := buildslave(t, "create-worker", "-q", dir, "127.0.0.1:9", "w1", "pw"); err != nil {
		t.Fatalf("create-worker: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cron, err := exec.CommandContext(ctx, binary, "boot-hook", "cron", dir).Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "@reboot " + binary + " restart " + dir + "\n"; string(cron) != want {
		t.Errorf("boot-hook cron = %q, want %q", cron, want)
	}
}
