package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/buildslave/buildslave/internal/mastertest"
)

// observedBuild prints three lines, uploads and downloads a file of known
// size, and ends with a step that runs long enough to be seen running.
const observedBuild = `
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="lines", command=["sh", "-c", "printf 'one\\ntwo\\nthree\\n'; head -c 3000 /dev/zero > up.bin"]))
f.addStep(steps.FileUpload(name="upload", workersrc="up.bin", masterdest="uploaded.bin"))
f.addStep(steps.FileDownload(name="download", mastersrc="payload.bin", workerdest="down.bin"))
f.addStep(steps.ShellCommand(name="slow", command=["sh", "-c", "touch started; sleep 3"]))
c['builders'].append(util.BuilderConfig(name="b1", workernames=["w1"], factory=f))
`

const (
	uploadSize   = 3000
	downloadSize = 5000
)

// freeLoopbackPort finds a port on 127.0.0.1 that nothing listens on.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// statusOf runs `buildslave status --json` and returns its report and exit
// status.
func statusOf(t *testing.T, dir string) (map[string]any, int) {
	t.Helper()
	cmd := exec.Command(binary, "status", "--json", dir)
	out, err := cmd.Output()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var rep map[string]any
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	return rep, code
}

// statusText runs `buildslave status` for a person.
func statusText(t *testing.T, dir string) (string, int) {
	t.Helper()
	out, err := exec.Command(binary, "status", dir).CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(out), exit.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// healthz returns /healthz's status code and body.
func healthz(t *testing.T, addr string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// scrape reads /metrics with the Prometheus library's own parser.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse as Prometheus text: %v", err)
	}
	return families
}

// metricValue is the value of the series of family name whose labels
// include want (name=value pairs); -1 when there is none.
func metricValue(families map[string]*dto.MetricFamily, name string, want ...string) float64 {
	f, ok := families[name]
	if !ok {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(want); i += 2 {
			if labels[want[i]] != want[i+1] {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

func TestStatusHealthAndMetricsThroughALife(t *testing.T) {
	forEachProtocol(t, testStatusHealthAndMetricsThroughALife)
}

func testStatusHealthAndMetricsThroughALife(t *testing.T, protocol string) {
	m := mastertest.Start(t, mastertest.Options{
		Workers:         []mastertest.WorkerSpec{{Name: "w1", Password: "s3cret-pw"}},
		Builders:        observedBuild,
		ForceSchedulers: []string{"b1"},
	})
	writeMasterFile(t, m, "payload.bin", pseudoRandom(downloadSize, 7))
	ctx := testContext(t)
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", freeLoopbackPort(t))
	dir := createOurs(t, m.WorkerAddr(protocol), "--protocol="+protocol, "--metrics-addr="+metricsAddr, "--keepalive=1", "--maxdelay=2")

	// Not started yet: not running.
	if out, code := statusText(t, dir); code != 3 || !strings.Contains(out, "not running") {
		t.Errorf("status before start: exit %d, want 3\n%s", code, out)
	}
	w := runOurs(t, dir)
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatalf("%v\n%s", err, w.log())
	}
	waitFor(t, ctx, "status to say connected", func() bool { _, code := statusOf(t, dir); return code == 0 })
	rep, _ := statusOf(t, dir)
	if rep["connected"] != true || rep["master"] != m.WorkerAddr(protocol) || rep["protocol"] != protocol ||
		rep["version"] != "integration-test" || int(rep["pid"].(float64)) != w.cmd.Process.Pid {
		t.Errorf("status --json while connected: %v", rep)
	}
	if _, ok := rep["disk_free_bytes"].(float64); !ok || rep["disk_free_bytes"].(float64) <= 0 {
		t.Errorf("status --json has no free disk: %v", rep)
	}
	out, _ := statusText(t, dir)
	t.Logf("status while connected:\n%s", out)
	for _, want := range []string{"connected to " + m.WorkerAddr(protocol), "commands:    none running", "disk free:"} {
		if !strings.Contains(out, want) {
			t.Errorf("status does not say %q:\n%s", want, out)
		}
	}
	if code, body := healthz(t, metricsAddr); code != http.StatusOK || !strings.Contains(body, "connected to "+m.WorkerAddr(protocol)) {
		t.Errorf("/healthz while connected: %d %q", code, body)
	}

	// A build: the running command shows in status, then in the metrics.
	id, err := m.ForceBuild(ctx, "b1", nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the slow step to start", func() bool { return fileExists(filepath.Join(dir, "b1", "build", "started")) })
	// The status file follows within a moment (changes made together are
	// written together): until then it may still show the download
	// before it, as running.
	waitFor(t, ctx, "status to show the slow step", func() bool {
		rep, _ = statusOf(t, dir)
		cmds, _ := rep["commands"].([]any)
		return len(cmds) == 1 && cmds[0].(map[string]any)["command"] == "shell"
	})
	cmds, _ := rep["commands"].([]any)
	if cmds[0].(map[string]any)["builder"] != "b1" || cmds[0].(map[string]any)["command"] != "shell" {
		t.Errorf("status --json during the slow step: commands %v", rep["commands"])
	}
	if out, _ := statusText(t, dir); !strings.Contains(out, "b1: shell") {
		t.Errorf("status during the slow step does not show it:\n%s", out)
	}
	if b, err := m.WaitBuild(ctx, id); err != nil || b.Results != mastertest.SUCCESS {
		t.Fatalf("build: %+v, %v", b, err)
	}
	waitFor(t, ctx, "status to show no command", func() bool {
		rep, _ := statusOf(t, dir)
		cmds, _ := rep["commands"].([]any)
		return len(cmds) == 0
	})
	waitFor(t, ctx, "a keepalive answer", func() bool { return metricValue(scrape(t, metricsAddr), "buildslave_keepalive_rtt_seconds") > 0 })

	// Commands are counted under the names the master sends: over
	// msgpack, the transfers' newer ones.
	downloaded, upload, download := float64(downloadSize), "uploadFile", "downloadFile"
	if protocol == msgpack {
		expectMasterDefect(t, downloadDefect)
		downloaded, upload, download = 0, "upload_file", "download_file"
	}
	fam := scrape(t, metricsAddr)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"buildslave_connected", nil, 1},
		{"buildslave_connections_total", nil, 1},
		{"buildslave_disconnections_total", nil, 0},
		{"buildslave_commands_started_total", []string{"command", "shell"}, 2},
		{"buildslave_commands_finished_total", []string{"command", "shell", "result", "success"}, 2},
		{"buildslave_commands_finished_total", []string{"command", upload, "result", "success"}, 1},
		{"buildslave_commands_finished_total", []string{"command", download, "result", "success"}, 1},
		{"buildslave_command_duration_seconds", []string{"command", "shell"}, 2},
		{"buildslave_commands_running", nil, 0},
		{"buildslave_uploaded_bytes_total", nil, uploadSize},
		{"buildslave_downloaded_bytes_total", nil, downloaded},
		{"buildslave_info", []string{"master", m.WorkerAddr(protocol), "protocol", protocol, "version", "integration-test"}, 1},
	} {
		if got := metricValue(fam, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// The step's three lines, plus the header lines the worker writes.
	if got := metricValue(fam, "buildslave_output_lines_total"); got < 3 {
		t.Errorf("buildslave_output_lines_total = %v, want at least 3", got)
	}
	if got := metricValue(fam, "buildslave_basedir_free_bytes"); got <= 0 {
		t.Errorf("buildslave_basedir_free_bytes = %v", got)
	}
	for name := range fam {
		if !strings.HasPrefix(name, "buildslave_") && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
			t.Errorf("metric %s has no buildslave_ prefix", name)
		}
	}
	assertNoSecret(t, metricsAddr, dir)

	// The master goes away: not connected, with the reason.
	if err := m.StopProcess(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "/healthz to say 503", func() bool { code, _ := healthz(t, metricsAddr); return code == http.StatusServiceUnavailable })
	waitFor(t, ctx, "a failed reconnection", func() bool {
		rep, code := statusOf(t, dir)
		return code == 1 && rep["reconnect_attempts"].(float64) >= 2 && strings.Contains(fmt.Sprint(rep["last_error"]), "connection refused")
	})
	code, body := healthz(t, metricsAddr)
	t.Logf("/healthz with the master down: %d %s", code, body)
	if strings.Count(strings.TrimSpace(body), "\n") != 0 || !strings.HasPrefix(body, "not connected") {
		t.Errorf("/healthz body is not one line saying why: %q", body)
	}
	out, _ = statusText(t, dir)
	t.Logf("status with the master down:\n%s", out)
	for _, want := range []string{"not connected", "last error:", "connection refused", "connection attempts since last connected"} {
		if !strings.Contains(out, want) {
			t.Errorf("status does not say %q:\n%s", want, out)
		}
	}
	fam = scrape(t, metricsAddr)
	if metricValue(fam, "buildslave_connected") != 0 || metricValue(fam, "buildslave_disconnections_total") != 1 ||
		metricValue(fam, "buildslave_reconnect_attempts_total") < 1 {
		t.Errorf("metrics with the master down: connected %v, disconnections %v, reconnect attempts %v",
			metricValue(fam, "buildslave_connected"), metricValue(fam, "buildslave_disconnections_total"),
			metricValue(fam, "buildslave_reconnect_attempts_total"))
	}

	// It comes back: connected again.
	if err := m.StartAgain(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "/healthz to say 200 again", func() bool { code, _ := healthz(t, metricsAddr); return code == http.StatusOK })
	waitFor(t, ctx, "status to say connected again", func() bool { _, code := statusOf(t, dir); return code == 0 })
	if got := metricValue(scrape(t, metricsAddr), "buildslave_connections_total"); got != 2 {
		t.Errorf("buildslave_connections_total after the restart = %v, want 2", got)
	}

	// Stopped: not running, and the endpoint is gone.
	_ = w.cmd.Process.Signal(os.Interrupt)
	if code := w.wait(t, ctx); code != 0 {
		t.Errorf("worker exit status %d", code)
	}
	if out, code := statusText(t, dir); code != 3 || !strings.Contains(out, "not running") {
		t.Errorf("status after stop: exit %d, want 3\n%s", code, out)
	}
	if _, err := http.Get("http://" + metricsAddr + "/healthz"); err == nil {
		t.Errorf("the endpoint still answers after the worker stopped")
	}
}

// assertNoSecret checks that neither endpoint nor the status file shows
// the password.
func assertNoSecret(t *testing.T, addr, dir string) {
	t.Helper()
	for _, path := range []string{"/metrics", "/healthz"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), "s3cret-pw") {
			t.Errorf("%s shows the password", path)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "buildslave.status"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "s3cret-pw") {
		t.Errorf("the status file shows the password")
	}
}

// A worker started in the background by `start` keeps its status file
// just as one in the foreground does. PB only: the status file over
// msgpack is TestStatusHealthAndMetricsThroughALife's.
func TestStatusOfADaemon(t *testing.T) {
	m := oneBuilderMaster(t)
	ctx := testContext(t)
	dir := createOurs(t, m.PBAddr())
	out, err := buildslave(t, "start", dir)
	t.Cleanup(func() { _, _ = buildslave(t, "stop", dir) })
	if err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	pid, err := os.ReadFile(filepath.Join(dir, "twistd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "status to say connected", func() bool { _, code := statusOf(t, dir); return code == 0 })
	rep, _ := statusOf(t, dir)
	if fmt.Sprint(rep["pid"]) != string(pid) || rep["master"] != m.PBAddr() {
		t.Errorf("status of the daemon: %v (pid file %s)", rep, pid)
	}
	if out, err := buildslave(t, "stop", dir); err != nil {
		t.Fatalf("stop: %v\n%s", err, out)
	}
	if out, code := statusText(t, dir); code != 3 || !strings.Contains(out, "not running") {
		t.Errorf("status after stop: exit %d\n%s", code, out)
	}
	snap := readFile(t, filepath.Join(dir, "buildslave.status"))
	if !strings.Contains(snap, `"state": "stopped"`) {
		t.Errorf("the status file does not record the stop:\n%s", snap)
	}
}
