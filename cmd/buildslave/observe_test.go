package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/statusfile"
)

func TestParseMasterList(t *testing.T) {
	host, port, failover, err := parseMasterList("m1.example.org,m2.example.org:9990, [2001:db8::3]:9991")
	if err != nil || host != "m1.example.org" || port != 9989 ||
		!reflect.DeepEqual(failover, []string{"m2.example.org:9990", "[2001:db8::3]:9991"}) {
		t.Errorf("parseMasterList = %q, %d, %q, %v", host, port, failover, err)
	}
	host, port, failover, err = parseMasterList("m1.example.org:1")
	if err != nil || host != "m1.example.org" || port != 1 || failover != nil {
		t.Errorf("one master: %q, %d, %q, %v", host, port, failover, err)
	}
	for in, want := range map[string]string{
		"m1,":             "empty entry",
		",m1":             "empty entry",
		"m1,http://m2/":   "is a URL",
		"m1:9989,m2:port": "invalid master port",
	} {
		if _, _, _, err := parseMasterList(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseMasterList(%q) error %v, want %q", in, err, want)
		}
	}
}

func TestCreateWorkerWithFailoverAndMetrics(t *testing.T) {
	basedir := t.TempDir()
	code, _, errOut := run(t, "create-worker", "-q", "--metrics-addr=:9101", basedir, "m1.example.org:9989,m2.example.org:9989", "w1", testPassword)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	cfg, err := config.Load(basedir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MasterHost != "m1.example.org" || cfg.MasterPort != 9989 ||
		!reflect.DeepEqual(cfg.FailoverMasters, []string{"m2.example.org:9989"}) || cfg.MetricsAddr != ":9101" {
		t.Errorf("stored %v", cfg)
	}
	// The same command again changes nothing.
	if code, _, errOut := run(t, "create-worker", "-q", "--metrics-addr=:9101", basedir, "m1.example.org:9989,m2.example.org:9989", "w1", testPassword); code != 0 {
		t.Errorf("same create-worker again: exit %d: %s", code, errOut)
	}
	if code, _, errOut := run(t, "create-worker", "-q", "--metrics-addr=nope:x", t.TempDir(), "m1", "w1", testPassword); code != 1 || !strings.Contains(errOut, "metrics_addr") {
		t.Errorf("bad --metrics-addr: exit %d: %s", code, errOut)
	}
}

func TestStatusOfDirectories(t *testing.T) {
	code, out, _ := run(t, "status", t.TempDir())
	if code != statusUnknown || !strings.Contains(out, "has no buildslave.cfg") {
		t.Errorf("status of an empty directory: exit %d, %q", code, out)
	}

	basedir := t.TempDir()
	if code, _, errOut := run(t, "create-worker", "-q", basedir, "m1", "w1", testPassword); code != 0 {
		t.Fatal(errOut)
	}
	code, out, _ = run(t, "status", basedir)
	if code != statusNotRunning || !strings.Contains(out, "not running") {
		t.Errorf("status of a worker never started: exit %d, %q", code, out)
	}

	// A worker that died while connected left its status and pid file.
	snap := statusfile.Snapshot{PID: 999999, State: "connected", Connected: true, Master: "m1:9989",
		Commands: []statusfile.Command{{Builder: "b1", Name: "shell", ID: "3"}}}
	data, _ := json.Marshal(snap)
	if err := os.WriteFile(filepath.Join(basedir, statusfile.FileName), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(basedir, pidFileName), []byte("999999"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = run(t, "status", "--json", basedir)
	var rep statusReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if code != statusNotRunning || rep.Running || rep.Connected || len(rep.Commands) != 0 ||
		!strings.Contains(rep.Summary, "stale pid file") || !strings.Contains(rep.State, "ended unexpectedly") {
		t.Errorf("status of a dead worker: exit %d, %+v", code, rep)
	}
	if strings.Contains(out, testPassword) {
		t.Errorf("status shows the password")
	}
}
