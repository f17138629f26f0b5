package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/buildslave/buildslave/agent"
	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/internal/timerslack"
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

// The worker relaxes its timers before anything else, and runs on with
// the ones it has when it cannot, saying so.
func TestStartNodaemonRelaxesTimersFirst(t *testing.T) {
	dir := workerDir(t)
	t.Chdir(t.TempDir())
	var errOut bytes.Buffer
	relaxed, gotStart := false, false
	a := &app{version: "test", stdout: io.Discard, stderr: &errOut,
		relaxTimers: func() (*timerslack.Relaxed, error) {
			if _, err := os.Stat(pidFilePath(dir)); err == nil {
				t.Error("relaxed after the pid file was written")
			}
			relaxed = true
			return nil, errors.New("no slack here")
		},
		runWorker: func(ctx context.Context, cfg *config.Config, opts agent.Options) error {
			gotStart = opts.StartProcess != nil && opts.StartProcess(func() error { return nil }) == nil
			return fakeAgent("once")(ctx, cfg, opts)
		},
	}
	if code := a.main(context.Background(), []string{"start", "--nodaemon", dir}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !relaxed || !gotStart {
		t.Errorf("relaxTimers called: %v; the worker got a StartProcess that starts: %v", relaxed, gotStart)
	}
	if !strings.Contains(errOut.String(), "keeps the timer slack it was given") || !strings.Contains(errOut.String(), "no slack here") {
		t.Errorf("the failure is not logged:\n%s", errOut.String())
	}
}
