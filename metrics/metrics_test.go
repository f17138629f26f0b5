package metrics

import (
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/buildslave/buildslave/agent"
)

func scrape(t *testing.T, m *Metrics) (map[string]float64, string) {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	out := map[string]float64{}
	for name, f := range fams {
		for _, s := range f.GetMetric() {
			key := name
			for _, l := range s.GetLabel() {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			switch {
			case s.Counter != nil:
				out[key] = s.Counter.GetValue()
			case s.Gauge != nil:
				out[key] = s.Gauge.GetValue()
			case s.Histogram != nil:
				out[key] = float64(s.Histogram.GetSampleCount())
			}
		}
	}
	return out, string(body)
}

func healthOf(t *testing.T, m *Metrics) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	return rec.Code, rec.Body.String()
}

func TestLifeInMetricsAndHealth(t *testing.T) {
	m := New(t.TempDir(), "1.0", "pb")
	if code, body := healthOf(t, m); code != 503 || !strings.HasPrefix(body, "not connected") {
		t.Errorf("/healthz at start: %d %q", code, body)
	}
	m.StateChanged(agent.Status{State: agent.StateConnecting, Master: "m1:9989"})
	m.StateChanged(agent.Status{State: agent.StateDisconnected, Master: "m1:9989", Err: errors.New("connection refused\nsecond line")})
	m.StateChanged(agent.Status{State: agent.StateConnecting, Master: "m2:9989"})
	if code, body := healthOf(t, m); code != 503 || strings.Count(body, "\n") != 1 || !strings.Contains(body, "connection refused second line") {
		t.Errorf("/healthz not connected: %d %q, want 503 and one line with the reason", code, body)
	}
	m.StateChanged(agent.Status{State: agent.StateConnected, Master: "m2:9989"})
	if code, body := healthOf(t, m); code != 200 || !strings.Contains(body, "connected to m2:9989") {
		t.Errorf("/healthz connected: %d %q", code, body)
	}
	m.KeepaliveAnswered(1500 * time.Microsecond)
	info := agent.CommandInfo{Builder: "b1", ID: "1", Name: "shell", Started: time.Now()}
	m.CommandStarted(info)
	got, _ := scrape(t, m)
	if got["buildslave_commands_running"] != 1 {
		t.Errorf("commands running = %v", got["buildslave_commands_running"])
	}
	m.OutputLines(3)
	m.Transferred(true, 100)
	m.Transferred(false, 7)
	m.CommandFinished(info, agent.CommandResult{Result: agent.ResultFailure, RC: 2, Duration: time.Second})
	m.StateChanged(agent.Status{State: agent.StateDisconnected, Master: "m2:9989", Err: errors.New("EOF")})

	got, body := scrape(t, m)
	for key, want := range map[string]float64{
		"buildslave_connected":                                            0,
		"buildslave_connections_total":                                    1,
		"buildslave_disconnections_total":                                 1,
		"buildslave_reconnect_attempts_total":                             1,
		"buildslave_keepalive_rtt_seconds":                                0.0015,
		"buildslave_commands_started_total,command=shell":                 1,
		"buildslave_commands_finished_total,command=shell,result=failure": 1,
		"buildslave_command_duration_seconds,command=shell":               1,
		"buildslave_commands_running":                                     0,
		"buildslave_output_lines_total":                                   3,
		"buildslave_uploaded_bytes_total":                                 100,
		"buildslave_downloaded_bytes_total":                               7,
		"buildslave_info,master=m2:9989,protocol=pb,version=1.0":          1,
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
	if _, ok := got["buildslave_basedir_free_bytes"]; !ok {
		t.Errorf("no buildslave_basedir_free_bytes in\n%s", body)
	}
	if strings.Contains(body, "m1:9989") {
		t.Errorf("buildslave_info keeps the master no longer in use")
	}
}

func TestListenRefusesATakenPort(t *testing.T) {
	m := New(t.TempDir(), "1.0", "pb")
	srv, err := m.Listen("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if _, err := m.Listen(srv.Addr().String(), nil); err == nil {
		t.Errorf("a second endpoint on %s started", srv.Addr())
	}
	resp, err := http.Get("http://" + srv.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("/healthz over the network: %s", resp.Status)
	}
}

// families scrapes m and parses the text with Prometheus' own parser.
func families(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q, want Prometheus' text format", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, rec.Body.String())
	}
	for name, f := range fams {
		if f.GetHelp() == "" {
			t.Errorf("%s has no help", name)
		}
	}
	return fams
}

func TestLabelValuesAreEscaped(t *testing.T) {
	version := "1.0 \"beta\" \\ with\nnewline"
	m := New(t.TempDir(), version, "pb")
	master := `m"1\:9989`
	m.StateChanged(agent.Status{State: agent.StateConnected, Master: master})
	m.CommandStarted(agent.CommandInfo{Name: `odd"name\`})
	fams := families(t, m)
	info := fams["buildslave_info"].GetMetric()
	if len(info) != 1 {
		t.Fatalf("buildslave_info has %d samples", len(info))
	}
	labels := map[string]string{}
	for _, l := range info[0].GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	if labels["version"] != version || labels["master"] != master || labels["protocol"] != "pb" {
		t.Errorf("buildslave_info labels %q, want version %q and master %q", labels, version, master)
	}
	if got := fams["buildslave_commands_started_total"].GetMetric()[0].GetLabel()[0].GetValue(); got != `odd"name\` {
		t.Errorf("command label %q", got)
	}
}

func TestDurationHistogram(t *testing.T) {
	m := New(t.TempDir(), "1.0", "pb")
	for _, d := range []time.Duration{5 * time.Millisecond, 500 * time.Millisecond, 5 * time.Second, 10 * time.Second, 5 * time.Hour} {
		info := agent.CommandInfo{Name: "shell"}
		m.CommandStarted(info)
		m.CommandFinished(info, agent.CommandResult{Result: agent.ResultSuccess, Duration: d})
	}
	fams := families(t, m)
	samples := fams["buildslave_command_duration_seconds"].GetMetric()
	if len(samples) != 1 {
		t.Fatalf("%d histograms, want one for shell", len(samples))
	}
	h := samples[0].GetHistogram()
	if h.GetSampleCount() != 5 || h.GetSampleSum() != 0.005+0.5+5+10+5*3600 {
		t.Errorf("count %d sum %v, want 5 and %v", h.GetSampleCount(), h.GetSampleSum(), 0.005+0.5+5+10+5*3600)
	}
	// Cumulative, an observation equal to a bound counting in its bucket.
	want := map[float64]uint64{0.01: 1, 0.1: 1, 1: 2, 10: 4, 60: 4, 300: 4, 1800: 4, 3600: 4, 4 * 3600: 4, math.Inf(1): 5}
	if len(h.GetBucket()) != len(want) {
		t.Errorf("%d buckets, want %d", len(h.GetBucket()), len(want))
	}
	for _, b := range h.GetBucket() {
		if w, ok := want[b.GetUpperBound()]; !ok || b.GetCumulativeCount() != w {
			t.Errorf("bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), w)
		}
	}
}

func TestGoAndProcessMetrics(t *testing.T) {
	fams := families(t, New(t.TempDir(), "1.0", "pb"))
	value := func(name string) (float64, bool) {
		f, ok := fams[name]
		if !ok || len(f.GetMetric()) == 0 {
			return 0, false
		}
		s := f.GetMetric()[0]
		switch {
		case s.Gauge != nil:
			return s.Gauge.GetValue(), true
		case s.Counter != nil:
			return s.Counter.GetValue(), true
		}
		return 0, false
	}
	positive := []string{"go_goroutines", "go_threads", "go_memstats_heap_alloc_bytes", "go_memstats_sys_bytes", "go_sched_gomaxprocs_threads", "go_gc_gogc_percent", "process_cpu_seconds_total"}
	if runtime.GOOS == "linux" {
		positive = append(positive, "process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds", "process_max_fds", "process_start_time_seconds")
	}
	for _, name := range positive {
		if v, ok := value(name); !ok || v <= 0 {
			t.Errorf("%s = %v (present: %v), want a positive value", name, v, ok)
		}
	}
	if start, ok := value("process_start_time_seconds"); ok {
		if now := float64(time.Now().Unix()); start > now+1 || start < now-24*3600 {
			t.Errorf("process_start_time_seconds = %v, now is %v", start, now)
		}
	}
	if fams["go_gc_duration_seconds"].GetType() != dto.MetricType_SUMMARY {
		t.Errorf("go_gc_duration_seconds is a %v", fams["go_gc_duration_seconds"].GetType())
	}
	if fams["go_info"].GetMetric()[0].GetLabel()[0].GetValue() != runtime.Version() {
		t.Errorf("go_info does not give the Go version")
	}
}
