package main

import (
	"os"
	"strings"
	"testing"
)

func TestStartNodaemon(t *testing.T) {
	dir := workerDir(t)
	t.Chdir(t.TempDir()) // start enters the base directory; go back afterwards
	code, out, errOut := run(t, "start", "--nodaemon", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if out != "" {
		t.Errorf("output %q", out)
	}
	log := readFile(t, dir, logFileName)
	for what, s := range map[string]string{"stderr": errOut, "log": log} {
		if !strings.Contains(s, "fake agent running") || !strings.Contains(s, "workername=w") {
			t.Errorf("%s lacks the worker's log: %s", what, s)
		}
		if strings.Contains(s, testPassword) {
			t.Errorf("%s reveals the password: %s", what, s)
		}
	}
	if _, err := os.Stat(pidFilePath(dir)); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
	hostname := readFile(t, dir, "twistd.hostname")
	if name, _ := os.Hostname(); hostname != name+"\n" {
		t.Errorf("twistd.hostname = %q", hostname)
	}

	// --quiet keeps the log off stderr.
	if code, _, errOut := run(t, "start", "--nodaemon", "--quiet", dir); code != 0 || errOut != "" {
		t.Errorf("--quiet: exit %d, stderr %q", code, errOut)
	}
}

func TestStartNodaemonRefusesLiveWorker(t *testing.T) {
	dir := workerDir(t)
	t.Chdir(t.TempDir())
	writePidFile(t, dir, itoa(startSleeper(t)))
	code, _, errOut := run(t, "start", "--nodaemon", dir)
	if code == 0 || !strings.Contains(errOut, "already running") {
		t.Errorf("exit %d, %q", code, errOut)
	}
}
