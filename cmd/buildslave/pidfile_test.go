package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func writePidFile(t *testing.T, dir, content string) {
	t.Helper()
	if err := os.WriteFile(pidFilePath(dir), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// startSleeper runs this test binary as a process that only sleeps: a live
// process running the same program as a worker.
func startSleeper(t *testing.T) int {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), sleeperEnv+"=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd.Process.Pid
}

// deadPid returns the pid of a process that has exited.
func deadPid(t *testing.T) int {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestInspectPidFile(t *testing.T) {
	dir := t.TempDir()
	p, err := inspectPidFile(dir)
	if err != nil || p.Exists || p.Live {
		t.Errorf("no pid file: %+v, %v", p, err)
	}

	live := startSleeper(t)
	dead := deadPid(t)
	for content, want := range map[string]struct {
		live  bool
		stale string
	}{
		strconv.Itoa(live):        {live: true},
		strconv.Itoa(live) + "\n": {live: true},
		strconv.Itoa(dead):        {stale: "is not running"},
		strconv.Itoa(os.Getpid()): {stale: "this very process"},
		"":                        {stale: "no process id"},
		"garbage":                 {stale: "no process id"},
		"-5":                      {stale: "no process id"},
	} {
		writePidFile(t, dir, content)
		p, err := inspectPidFile(dir)
		if err != nil || !p.Exists || p.Live != want.live || !strings.Contains(p.Stale, want.stale) {
			t.Errorf("pid file %q: %+v, %v; want live %v, stale %q", content, p, err, want.live, want.stale)
		}
	}
}

// On Linux a live process running another program is not taken for a
// worker whose pid it inherited.
func TestInspectPidFileOtherProgram(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux tells which program a process runs")
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep program")
	}
	cmd := exec.Command(sleep, "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	dir := t.TempDir()
	writePidFile(t, dir, strconv.Itoa(cmd.Process.Pid))
	p, err := inspectPidFile(dir)
	if err != nil || p.Live || !strings.Contains(p.Stale, "not a buildslave") {
		t.Errorf("%+v, %v", p, err)
	}
}

func TestCreatePidFile(t *testing.T) {
	dir := t.TempDir()
	release, err := createPidFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, pidFilePath(dir)); got != strconv.Itoa(os.Getpid()) {
		t.Errorf("pid file holds %q, want our pid without newline", got)
	}
	release()
	if _, err := os.Stat(pidFilePath(dir)); !os.IsNotExist(err) {
		t.Errorf("pid file not removed: %v", err)
	}

	// A stale file is replaced.
	writePidFile(t, dir, strconv.Itoa(deadPid(t)))
	release, err = createPidFile(dir)
	if err != nil {
		t.Fatalf("stale pid file: %v", err)
	}
	// release leaves a file another worker has taken over alone.
	writePidFile(t, dir, "12345")
	release()
	if _, err := os.Stat(pidFilePath(dir)); err != nil {
		t.Errorf("another worker's pid file removed: %v", err)
	}

	// A live worker's file is not.
	live := strconv.Itoa(startSleeper(t))
	writePidFile(t, dir, live)
	if _, err := createPidFile(dir); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("live worker's pid file: %v", err)
	}
	if got := readFile(t, pidFilePath(dir)); got != live {
		t.Errorf("live worker's pid file now holds %q", got)
	}
}

func TestStopNotRunning(t *testing.T) {
	dir := workerDir(t)
	code, out, errOut := run(t, "stop", dir)
	if code != 0 || out != "worker not running\n" {
		t.Errorf("exit %d, %q, %q", code, out, errOut)
	}
	writePidFile(t, dir, strconv.Itoa(deadPid(t)))
	code, out, errOut = run(t, "stop", dir)
	if code != 0 || !strings.Contains(out, "Removing stale pidfile") || !strings.HasSuffix(out, "worker not running\n") {
		t.Errorf("stale pid file: exit %d, %q, %q", code, out, errOut)
	}
	if _, err := os.Stat(pidFilePath(dir)); !os.IsNotExist(err) {
		t.Errorf("stale pid file not removed: %v", err)
	}
	if code, out, _ := run(t, "stop", "-q", dir); code != 0 || out != "" {
		t.Errorf("-q: exit %d, %q", code, out)
	}
}

func TestNotAWorkerDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, cmd := range []string{"start", "stop", "restart"} {
		code, _, errOut := run(t, cmd, dir)
		if code == 0 || !strings.Contains(errOut, "invalid worker directory") {
			t.Errorf("%s: exit %d, %q", cmd, code, errOut)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "buildbot.tac"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, errOut := run(t, "start", dir); !strings.Contains(errOut, "buildbot.tac") {
		t.Errorf("no hint about buildbot.tac: %q", errOut)
	}
}

// workerDir creates a worker directory.
func workerDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if code, _, errOut := run(t, "create-worker", "-q", dir, "127.0.0.1:9", "w", testPassword); code != 0 {
		t.Fatal(errOut)
	}
	return dir
}
