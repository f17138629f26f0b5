package metrics

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
