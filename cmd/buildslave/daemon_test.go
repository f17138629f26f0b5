//go:build unix

package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// startDaemonTest runs start with the background worker's fake agent in
// the given mode, and stops whatever it left running when the test ends.
func startDaemonTest(t *testing.T, dir, mode string, args ...string) (code int, out, errOut string) {
	t.Helper()
	t.Setenv(fakeAgentEnv, mode)
	t.Cleanup(func() {
		p, err := inspectPidFile(dir)
		if err == nil && p.Live {
			_ = killProcess(p.PID)
		}
	})
	return run(t, append(append([]string{"start"}, args...), dir)...)
}

func livePid(t *testing.T, dir string) int {
	t.Helper()
	p, err := inspectPidFile(dir)
	if err != nil || !p.Live {
		t.Fatalf("no live worker: %+v, %v", p, err)
	}
	return p.PID
}

func TestStartDaemon(t *testing.T) {
	dir := workerDir(t)
	code, out, errOut := startDaemonTest(t, dir, "connect")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	pid := livePid(t, dir)
	wantOut := "worker process " + itoa(pid) + " started; it logs to " + dir + "/twistd.log\n" +
		"connecting to the master at 127.0.0.1:9\n" +
		"connected to the master\n" +
		"The buildslave appears to have (re)started correctly.\n"
	if out != wantOut {
		t.Errorf("output:\n%s\nwant:\n%s", out, wantOut)
	}
	if strings.Contains(out+errOut, testPassword) {
		t.Error("output reveals the password")
	}

	code, _, errOut = startDaemonTest(t, dir, "connect")
	if code == 0 || !strings.Contains(errOut, "already running") {
		t.Errorf("second start: exit %d, %q", code, errOut)
	}

	code, out, errOut = run(t, "restart", dir)
	if code != 0 {
		t.Fatalf("restart: exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, "worker process "+itoa(pid)+" is dead\nnow restarting worker process..\n") {
		t.Errorf("restart output:\n%s", out)
	}
	pid = livePid(t, dir)

	code, out, errOut = run(t, "stop", dir)
	if code != 0 || out != "worker process "+itoa(pid)+" is dead\n" {
		t.Errorf("stop: exit %d, %q, %q", code, out, errOut)
	}
	if _, err := os.Stat(pidFilePath(dir)); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
	log := readFile(t, dir, logFileName)
	if !strings.Contains(log, "fake agent running") || strings.Contains(log, testPassword) {
		t.Errorf("log:\n%s", log)
	}
}

func TestStartDaemonUmask(t *testing.T) {
	dir := workerDir(t)
	if code, _, errOut := startDaemonTest(t, dir, "connect"); code != 0 {
		t.Fatal(errOut)
	}
	run(t, "stop", dir)
	// The background worker wrote its log under twistd's daemon umask.
	fi, err := os.Stat(dir + "/" + logFileName)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("log mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestStartDaemonRemovesStalePidFile(t *testing.T) {
	dir := workerDir(t)
	writePidFile(t, dir, itoa(deadPid(t)))
	code, out, errOut := startDaemonTest(t, dir, "connect")
	if code != 0 || !strings.HasPrefix(out, "Removing stale pidfile "+pidFilePath(dir)) {
		t.Errorf("exit %d, %q, %q", code, out, errOut)
	}
	run(t, "stop", dir)
}

func TestStartDaemonRefusesLiveWorker(t *testing.T) {
	dir := workerDir(t)
	sleeper := itoa(startSleeper(t))
	writePidFile(t, dir, sleeper)
	code, out, errOut := startDaemonTest(t, dir, "connect")
	if code == 0 || !strings.Contains(errOut, "already running") || !strings.Contains(errOut, "process "+sleeper) {
		t.Errorf("exit %d, %q, %q", code, out, errOut)
	}
	if readFile(t, pidFilePath(dir)) != sleeper {
		t.Error("live worker's pid file changed")
	}
}

// A refused login fails start with one line that says which master refused
// which name, where the password is, and that the worker goes on retrying
// and how to stop it; the background worker is left running.
func TestStartDaemonLoginRefused(t *testing.T) {
	dir := workerDir(t)
	code, _, errOut := startDaemonTest(t, dir, "refuse")
	if code == 0 {
		t.Errorf("start exited 0 on a refused login")
	}
	pid := livePid(t, dir)
	want := "buildslave: login refused: the master at 127.0.0.1:9 refused the login of worker \"w\"; " +
		"check workername and passwd in " + dir + "/buildslave.cfg. The worker keeps running in the background " +
		"(process " + itoa(pid) + ") and retries until the master accepts it; stop it with 'buildslave stop " + dir + "'\n"
	if errOut != want {
		t.Errorf("start said\n%q\nwant\n%q", errOut, want)
	}
	if strings.Contains(errOut, testPassword) {
		t.Error("error reveals the password")
	}
	if code, _, errOut := run(t, "stop", dir); code != 0 {
		t.Errorf("stop: %s", errOut)
	}
}

func TestStartDaemonLoginRefusedMaxRetries(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := run(t, "create-worker", "-q", "--maxretries=4", dir, "127.0.0.1:9", "w", testPassword); code != 0 {
		t.Fatal(errOut)
	}
	code, _, errOut := startDaemonTest(t, dir, "refuse")
	if code == 0 || !strings.Contains(errOut, "retries until the master accepts it or 4 attempts have failed (maxretries)") {
		t.Errorf("exit %d, %q", code, errOut)
	}
	livePid(t, dir)
	run(t, "stop", dir)
}

func TestStartDaemonFails(t *testing.T) {
	dir := workerDir(t)
	code, _, errOut := startDaemonTest(t, dir, "fail")
	if code == 0 || !strings.Contains(errOut, "fake failure") || !strings.Contains(errOut, "exit status 1") {
		t.Errorf("exit %d, %q", code, errOut)
	}
}

func TestStartDaemonTimeout(t *testing.T) {
	dir := workerDir(t)
	begin := time.Now()
	code, out, errOut := startDaemonTest(t, dir, "hang", "--timeout", "500ms")
	if code == 0 || !strings.Contains(errOut, "keeps running in the background") {
		t.Errorf("exit %d, %q", code, errOut)
	}
	if !strings.Contains(out, "connection failed: connection refused; retrying") {
		t.Errorf("output %q", out)
	}
	if d := time.Since(begin); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
	livePid(t, dir)
	if code, _, errOut := run(t, "stop", dir); code != 0 {
		t.Errorf("stop: %s", errOut)
	}
}

func TestStartDaemonQuiet(t *testing.T) {
	dir := workerDir(t)
	code, out, errOut := startDaemonTest(t, dir, "hang", "--quiet")
	if code != 0 || out != "" || errOut != "" {
		t.Errorf("exit %d, %q, %q", code, out, errOut)
	}
	livePid(t, dir)
	if code, out, _ := run(t, "stop", "--quiet", dir); code != 0 || out != "" {
		t.Errorf("stop --quiet: exit %d, %q", code, out)
	}
}
