package integration

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestFailoverToTheSecondMasterAndBack runs a worker given two masters, the
// first one down: it works for the second; the first coming back does not
// take it away; once the second goes, the worker returns to the first.
func TestFailoverToTheSecondMasterAndBack(t *testing.T) {
	forEachProtocol(t, testFailoverToTheSecondMasterAndBack)
}

func testFailoverToTheSecondMasterAndBack(t *testing.T, protocol string) {
	first, second := oneBuilderMaster(t), oneBuilderMaster(t)
	answer := "Perspective Broker"
	if protocol == msgpack {
		answer = "HTTP 401" // the probe's upgrade carries no credentials
	}
	ctx := testContext(t)
	if err := first.StopProcess(); err != nil {
		t.Fatal(err)
	}
	dir := createOurs(t, first.WorkerAddr(protocol)+","+second.WorkerAddr(protocol), "--protocol="+protocol, "--maxdelay=2")
	cfg := readFile(t, dir+"/buildslave.cfg")
	if !strings.Contains(cfg, `failover_masters = ["`+second.WorkerAddr(protocol)+`"]`) {
		t.Errorf("buildslave.cfg does not list the second master as a failover master:\n%s", cfg)
	}
	w := runOurs(t, dir)

	// The first is down: the worker goes on to the second, and says so.
	if _, err := second.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatalf("%v\n%s", err, w.log())
	}
	forceSuccess(t, ctx, second, "b1")
	waitFor(t, ctx, "status to name the second master", func() bool {
		rep, code := statusOf(t, dir)
		return code == 0 && rep["master"] == second.WorkerAddr(protocol)
	})
	rep, _ := statusOf(t, dir)
	if ms, _ := rep["masters"].([]any); len(ms) != 2 || ms[0] != first.WorkerAddr(protocol) || ms[1] != second.WorkerAddr(protocol) {
		t.Errorf("status masters = %v, want both in order", rep["masters"])
	}
	log := w.log()
	if !strings.Contains(log, "trying the next one") || !strings.Contains(log, `worker is ready" master=`+second.WorkerAddr(protocol)) {
		t.Errorf("the log does not say which master is in use:\n%s", log)
	}

	// check agrees: the first is down, but the worker can work.
	lines, code := runCheck(t, dir)
	if code != 0 {
		t.Errorf("check with the first master down and the second up: exit %d, want 0", code)
	}
	wantVerdict(t, lines, "connect "+first.WorkerAddr(protocol), "WARN", "connection refused")
	wantVerdict(t, lines, "protocol "+second.WorkerAddr(protocol), "PASS", answer)

	// The first comes back: the worker stays with the second.
	if err := first.StartAgain(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second) // more than maxdelay: time enough to move, were it to
	if wk, err := first.Worker(ctx, "w1"); err == nil && wk.Connected() {
		t.Errorf("the worker left a working connection for the first master")
	}
	if rep, code := statusOf(t, dir); code != 0 || rep["master"] != second.WorkerAddr(protocol) {
		t.Errorf("status after the first master came back: exit %d, master %v; want 0, %s", code, rep["master"], second.WorkerAddr(protocol))
	}
	forceSuccess(t, ctx, second, "b1")

	// The second goes: the next round starts at the first again.
	if err := second.StopProcess(); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	if _, err := first.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatalf("%v\n%s", err, w.log())
	}
	t.Logf("second master's process ended → worker connected to the first: %v", time.Since(stopped).Round(time.Millisecond))
	forceSuccess(t, ctx, first, "b1")
	waitFor(t, ctx, "status to name the first master", func() bool {
		rep, code := statusOf(t, dir)
		return code == 0 && rep["master"] == first.WorkerAddr(protocol)
	})
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
