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
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/buildslave/buildslave/agent"
	"github.com/buildslave/buildslave/hostinfo"
)

// Namespace prefixes every metric name.
const Namespace = "buildslave"

// durationBuckets are the upper bounds of the command duration histogram,
// in seconds.
var durationBuckets = []float64{0.01, 0.1, 1, 10, 60, 300, 1800, 3600, 4 * 3600}

// Metrics counts what the worker does and serves it. Create it with New.
type Metrics struct {
	basedir           string
	version, protocol string

	// The hot counters, bumped for every chunk of output or data.
	uploaded, downloaded, outputLines atomic.Uint64

	mu              sync.Mutex
	health          health
	attempts        int // StateConnecting reports seen
	connections     uint64
	disconnections  uint64
	reconnects      uint64
	keepaliveRTT    float64               // seconds
	commandsStarted map[string]uint64     // by command name
	commandsDone    map[[2]string]uint64  // by command name and result
	commandDuration map[string]*histogram // by command name
	commandsRunning int
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
	return &Metrics{
		basedir:         basedir,
		version:         version,
		protocol:        protocol,
		health:          health{state: "starting", since: time.Now()},
		commandsStarted: make(map[string]uint64),
		commandsDone:    make(map[[2]string]uint64),
		commandDuration: make(map[string]*histogram),
	}
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
	if s.Master != "" {
		m.health.master = s.Master
	}
	if s.Err != nil {
		m.health.lastErr = s.Err.Error()
	}
	switch s.State {
	case agent.StateConnecting:
		if m.attempts > 0 {
			m.reconnects++
		}
		m.attempts++
	case agent.StateConnected:
		m.connections++
		m.health.lastErr = ""
	}
	if wasConnected && !m.health.connected {
		m.disconnections++
	}
}

// KeepaliveAnswered implements agent.Observer.
func (m *Metrics) KeepaliveAnswered(rtt time.Duration) {
	m.mu.Lock()
	m.keepaliveRTT = rtt.Seconds()
	m.mu.Unlock()
}

// CommandStarted implements agent.Observer.
func (m *Metrics) CommandStarted(c agent.CommandInfo) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.commandsStarted[c.Name]++
	m.commandsRunning++
}

// CommandFinished implements agent.Observer.
func (m *Metrics) CommandFinished(c agent.CommandInfo, r agent.CommandResult) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.commandsRunning--
	m.commandsDone[[2]string{c.Name, r.Result}]++
	h := m.commandDuration[c.Name]
	if h == nil {
		h = newHistogram(durationBuckets)
		m.commandDuration[c.Name] = h
	}
	h.observe(r.Duration.Seconds())
}

// Transferred implements agent.Observer.
func (m *Metrics) Transferred(up bool, n int) {
	if up {
		m.uploaded.Add(uint64(n))
	} else {
		m.downloaded.Add(uint64(n))
	}
}

// OutputLines implements agent.Observer.
func (m *Metrics) OutputLines(n int) { m.outputLines.Add(uint64(n)) }

// Handler serves /healthz and /metrics.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", m.serveMetrics)
	mux.HandleFunc("GET /healthz", m.serveHealth)
	return mux
}

// serveMetrics answers with every metric in Prometheus' text format.
func (m *Metrics) serveMetrics(w http.ResponseWriter, _ *http.Request) {
	var e exposition
	m.write(&e)
	writeGo(&e)
	writeProcess(&e)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, e.String())
}

// write writes the worker's own buildslave_* metrics.
func (m *Metrics) write(e *exposition) {
	free := hostinfo.DiskFree(m.basedir) // outside the lock: it is a system call
	m.mu.Lock()
	defer m.mu.Unlock()
	connected := 0.0
	if m.health.connected {
		connected = 1
	}
	name := func(s string) string { return Namespace + "_" + s }
	e.single(name("basedir_free_bytes"), "gauge", "Disk space the worker may still use in its base directory.", float64(free))

	e.family(name("command_duration_seconds"), "histogram", "How long commands ran, by command name.")
	for _, c := range sortedKeys(m.commandDuration) {
		m.commandDuration[c].write(e, name("command_duration_seconds"), "command", c)
	}
	e.family(name("commands_finished_total"), "counter", "Commands that ended, by command name and result (success, failure, interrupted, exception).")
	done := make([][2]string, 0, len(m.commandsDone))
	for k := range m.commandsDone {
		done = append(done, k)
	}
	slices.SortFunc(done, func(a, b [2]string) int {
		if c := compareStrings(a[0], b[0]); c != 0 {
			return c
		}
		return compareStrings(a[1], b[1])
	})
	for _, k := range done {
		e.sample(name("commands_finished_total"), float64(m.commandsDone[k]), "command", k[0], "result", k[1])
	}
	e.single(name("commands_running"), "gauge", "Commands running now.", float64(m.commandsRunning))
	e.family(name("commands_started_total"), "counter", "Commands the master started, by command name.")
	for _, c := range sortedKeys(m.commandsStarted) {
		e.sample(name("commands_started_total"), float64(m.commandsStarted[c]), "command", c)
	}
	e.single(name("connected"), "gauge", "1 while the worker is logged in to a master, else 0.", connected)
	e.single(name("connections_total"), "counter", "Logins to a master that succeeded.", float64(m.connections))
	e.single(name("disconnections_total"), "counter", "Connections lost after a successful login.", float64(m.disconnections))
	e.single(name("downloaded_bytes_total"), "counter", "File bytes received from the master by download commands.", float64(m.downloaded.Load()))
	e.family(name("info"), "gauge", "Always 1: the worker's version and protocol, and the master in use or being dialled.")
	e.sample(name("info"), 1, "master", m.health.master, "protocol", m.protocol, "version", m.version)
	e.single(name("keepalive_rtt_seconds"), "gauge", "Round-trip time of the last keepalive the master answered.", m.keepaliveRTT)
	e.single(name("output_lines_total"), "counter", "Lines of command output (stdout, stderr, log files) sent to the master.", float64(m.outputLines.Load()))
	e.single(name("reconnect_attempts_total"), "counter", "Connection attempts after the first one (after a failure or a lost connection), one per master tried.", float64(m.reconnects))
	e.single(name("uploaded_bytes_total"), "counter", "File bytes sent to the master by upload commands.", float64(m.uploaded.Load()))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
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
