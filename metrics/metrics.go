// Package metrics is the worker's optional HTTP endpoint: /healthz for
// monitoring that only wants up or down, and /metrics in Prometheus' text
// format. It is an agent.Observer; the values come from what the worker
// reports, never from the master, and none of them is secret: no
// password, no command line, no environment.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/buildslave/buildslave/agent"
	"github.com/buildslave/buildslave/hostinfo"
)

// Namespace prefixes every metric name.
const Namespace = "buildslave"

// Metrics counts what the worker does and serves it. Create it with New.
type Metrics struct {
	registry *prometheus.Registry

	connected       prometheus.Gauge
	connections     prometheus.Counter
	disconnections  prometheus.Counter
	reconnects      prometheus.Counter
	keepaliveRTT    prometheus.Gauge
	commandsStarted *prometheus.CounterVec
	commandsDone    *prometheus.CounterVec
	commandDuration *prometheus.HistogramVec
	commandsRunning prometheus.Gauge
	uploaded        prometheus.Counter
	downloaded      prometheus.Counter
	outputLines     prometheus.Counter
	info            *prometheus.GaugeVec

	version, protocol string

	mu       sync.Mutex
	health   health
	attempts int // StateConnecting reports seen
}

// health is what /healthz says.
type health struct {
	connected bool
	state     string
	master    string
	since     time.Time
	lastErr   string
}

// New makes the metrics of one worker run; basedir is where free disk is
// measured.
func New(basedir, version, protocol string) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		version:  version,
		protocol: protocol,
		health:   health{state: "starting", since: time.Now()},
	}
	f := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: Namespace, Name: name, Help: help}
	}
	m.connected = prometheus.NewGauge(prometheus.GaugeOpts(f("connected", "1 while the worker is logged in to a master, else 0.")))
	m.connections = prometheus.NewCounter(prometheus.CounterOpts(f("connections_total", "Logins to a master that succeeded.")))
	m.disconnections = prometheus.NewCounter(prometheus.CounterOpts(f("disconnections_total", "Connections lost after a successful login.")))
	m.reconnects = prometheus.NewCounter(prometheus.CounterOpts(f("reconnect_attempts_total", "Connection attempts after the first one (after a failure or a lost connection), one per master tried.")))
	m.keepaliveRTT = prometheus.NewGauge(prometheus.GaugeOpts(f("keepalive_rtt_seconds", "Round-trip time of the last keepalive the master answered.")))
	m.commandsStarted = prometheus.NewCounterVec(prometheus.CounterOpts(f("commands_started_total", "Commands the master started, by command name.")), []string{"command"})
	m.commandsDone = prometheus.NewCounterVec(prometheus.CounterOpts(f("commands_finished_total", "Commands that ended, by command name and result (success, failure, interrupted, exception).")), []string{"command", "result"})
	m.commandDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "command_duration_seconds", Help: "How long commands ran, by command name.",
		Buckets: []float64{0.01, 0.1, 1, 10, 60, 300, 1800, 3600, 4 * 3600},
	}, []string{"command"})
	m.commandsRunning = prometheus.NewGauge(prometheus.GaugeOpts(f("commands_running", "Commands running now.")))
	m.uploaded = prometheus.NewCounter(prometheus.CounterOpts(f("uploaded_bytes_total", "File bytes sent to the master by upload commands.")))
	m.downloaded = prometheus.NewCounter(prometheus.CounterOpts(f("downloaded_bytes_total", "File bytes received from the master by download commands.")))
	m.outputLines = prometheus.NewCounter(prometheus.CounterOpts(f("output_lines_total", "Lines of command output (stdout, stderr, log files) sent to the master.")))
	m.info = prometheus.NewGaugeVec(prometheus.GaugeOpts(f("info", "Always 1: the worker's version and protocol, and the master in use or being dialled.")), []string{"version", "protocol", "master"})
	diskFree := prometheus.NewGaugeFunc(prometheus.GaugeOpts(f("basedir_free_bytes", "Disk space the worker may still use in its base directory.")),
		func() float64 { return float64(hostinfo.DiskFree(basedir)) })
	m.info.WithLabelValues(version, protocol, "").Set(1)
	m.registry.MustRegister(
		m.connected, m.connections, m.disconnections, m.reconnects, m.keepaliveRTT,
		m.commandsStarted, m.commandsDone, m.commandDuration, m.commandsRunning,
		m.uploaded, m.downloaded, m.outputLines, m.info, diskFree,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// StateChanged implements agent.Observer.
func (m *Metrics) StateChanged(s agent.Status) {
	m.mu.Lock()
	defer m.mu.Unlock()
	wasConnected := m.health.connected
	now := time.Now()
	m.health.connected = s.State == agent.StateConnected
	if wasConnected != m.health.connected {
		m.health.since = now
	}
	m.health.state = s.State.String()
	if s.Master != "" && s.Master != m.health.master {
		m.health.master = s.Master
		m.info.Reset()
		m.info.WithLabelValues(m.version, m.protocol, s.Master).Set(1)
	}
	if s.Err != nil {
		m.health.lastErr = s.Err.Error()
	}
	switch s.State {
	case agent.StateConnecting:
		if m.attempts > 0 {
			m.reconnects.Inc()
		}
		m.attempts++
	case agent.StateConnected:
		m.connections.Inc()
		m.health.lastErr = ""
	}
	if wasConnected && !m.health.connected {
		m.disconnections.Inc()
	}
	if m.health.connected {
		m.connected.Set(1)
	} else {
		m.connected.Set(0)
	}
}

// KeepaliveAnswered implements agent.Observer.
func (m *Metrics) KeepaliveAnswered(rtt time.Duration) { m.keepaliveRTT.Set(rtt.Seconds()) }

// CommandStarted implements agent.Observer.
func (m *Metrics) CommandStarted(c agent.CommandInfo) {
	m.commandsStarted.WithLabelValues(c.Name).Inc()
	m.commandsRunning.Inc()
}

// CommandFinished implements agent.Observer.
func (m *Metrics) CommandFinished(c agent.CommandInfo, r agent.CommandResult) {
	m.commandsRunning.Dec()
	m.commandsDone.WithLabelValues(c.Name, r.Result).Inc()
	m.commandDuration.WithLabelValues(c.Name).Observe(r.Duration.Seconds())
}

// Transferred implements agent.Observer.
func (m *Metrics) Transferred(up bool, n int) {
	if up {
		m.uploaded.Add(float64(n))
	} else {
		m.downloaded.Add(float64(n))
	}
}

// OutputLines implements agent.Observer.
func (m *Metrics) OutputLines(n int) { m.outputLines.Add(float64(n)) }

// Handler serves /healthz and /metrics.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", m.serveHealth)
	return mux
}

// serveHealth answers 200 while connected, 503 otherwise, with one line
// saying why.
func (m *Metrics) serveHealth(w http.ResponseWriter, _ *http.Request) {
	code, line := m.Health()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, line)
}

// Health is /healthz's status code and line.
func (m *Metrics) Health() (code int, line string) {
	m.mu.Lock()
	h := m.health
	m.mu.Unlock()
	since := h.since.UTC().Format(time.RFC3339)
	if h.connected {
		return http.StatusOK, fmt.Sprintf("ok: connected to %s since %s", h.master, since)
	}
	line = fmt.Sprintf("not connected since %s: %s", since, h.state)
	if h.master != "" {
		line += " (master " + h.master + ")"
	}
	if h.lastErr != "" {
		line += "; last error: " + h.lastErr
	}
	return http.StatusServiceUnavailable, oneLine(line)
}

func oneLine(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '\n' || c == '\r' {
			b[i] = ' '
		}
	}
	return string(b)
}

// Server is the running endpoint.
type Server struct {
	srv  *http.Server
	addr net.Addr
	done chan error
}

// Listen opens addr now, so that a port already taken is an error at
// start, and serves m there until Close.
func (m *Metrics) Listen(addr string, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.Default()
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics endpoint: %w", err)
	}
	s := &Server{
		srv: &http.Server{
			Handler:           m.Handler(),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
		addr: l.Addr(),
		done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(l) }()
	return s, nil
}

// Addr is the address the endpoint listens on.
func (s *Server) Addr() net.Addr { return s.addr }

// Close stops the endpoint.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
