package agent

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/buildslave/buildslave/agent/command"
	"github.com/buildslave/buildslave/config"
)

// recordingObserver keeps what it is told.
type recordingObserver struct {
	mu        sync.Mutex
	states    []Status
	started   []CommandInfo
	finished  []CommandResult
	up, down  int
	lines     int
	keepalive []time.Duration
}

func (o *recordingObserver) StateChanged(s Status) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.states = append(o.states, s)
}

func (o *recordingObserver) KeepaliveAnswered(rtt time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.keepalive = append(o.keepalive, rtt)
}

func (o *recordingObserver) CommandStarted(c CommandInfo) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.started = append(o.started, c)
}

func (o *recordingObserver) CommandFinished(_ CommandInfo, r CommandResult) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.finished = append(o.finished, r)
}

func (o *recordingObserver) Transferred(up bool, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if up {
		o.up += n
	} else {
		o.down += n
	}
}

func (o *recordingObserver) OutputLines(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lines += n
}

type nullSink struct{}

func (nullSink) SendUpdates(context.Context, []command.Update) error { return nil }
func (nullSink) Complete(context.Context, error) error               { return nil }

type nullWriter struct{}

func (nullWriter) Write(context.Context, []byte) error           { return nil }
func (nullWriter) Utime(context.Context, float64, float64) error { return nil }
func (nullWriter) Close(context.Context) error                   { return nil }
func (nullWriter) Unpack(context.Context) error                  { return nil }

type fixedReader struct{ left int }

func (r *fixedReader) Read(_ context.Context, n int) ([]byte, error) {
	n = min(n, r.left)
	r.left -= n
	return make([]byte, n), nil
}
func (r *fixedReader) Close(context.Context) error { return nil }

type plainCommand struct{ interrupted bool }

func (plainCommand) Run(context.Context, *command.Output) error { return nil }
func (plainCommand) Interrupt(string)                           {}

type interruptible struct{ plainCommand }

func (c interruptible) Interrupted() bool { return c.interrupted }

func TestObservedCommandCountsAndResults(t *testing.T) {
	ctx := context.Background()
	obs := &recordingObserver{}
	args := command.Args{"writer": nullWriter{}, "reader": &fixedReader{left: 10}, "path": "/x"}
	oc, sink := observeCommand(obs, "b1", "3", "shell", args, nullSink{})
	oc.started()
	if err := sink.SendUpdates(ctx, []command.Update{
		{Key: "header", Value: "not counted\n"},
		{Key: "stdout", Value: "a\nb\n"},
		{Key: "stderr", Value: "partial"},
		{Key: "log", Value: command.LogText{Name: "l", Text: "x\n"}},
		{Key: "rc", Value: 0},
	}); err != nil {
		t.Fatal(err)
	}
	_ = args["writer"].(command.FileWriter).Write(ctx, make([]byte, 100))
	_, _ = args["reader"].(command.FileReader).Read(ctx, 64)
	_, _ = args["reader"].(command.FileReader).Read(ctx, 64)
	oc.finished(plainCommand{}, false)
	if obs.lines != 4 || obs.up != 100 || obs.down != 10 {
		t.Errorf("lines %d, up %d, down %d; want 4, 100, 10", obs.lines, obs.up, obs.down)
	}
	if len(obs.started) != 1 || obs.started[0].Builder != "b1" || obs.started[0].Name != "shell" || obs.started[0].ID != "3" {
		t.Errorf("started %+v", obs.started)
	}

	for _, tc := range []struct {
		name string
		rc   *int
		cmd  command.Command
		lost bool
		want string
	}{
		{"rc 0", intp(0), plainCommand{}, false, ResultSuccess},
		{"rc 2", intp(2), plainCommand{}, false, ResultFailure},
		{"no rc", nil, plainCommand{}, false, ResultException},
		{"interrupted", intp(-1), interruptible{plainCommand{interrupted: true}}, false, ResultInterrupted},
		{"connection lost", nil, plainCommand{}, true, ResultInterrupted},
	} {
		obs := &recordingObserver{}
		oc, sink := observeCommand(obs, "b1", "1", "shell", command.Args{}, nullSink{})
		oc.started()
		if tc.rc != nil {
			_ = sink.SendUpdates(ctx, []command.Update{{Key: "rc", Value: *tc.rc}})
		}
		oc.finished(tc.cmd, tc.lost)
		if len(obs.finished) != 1 || obs.finished[0].Result != tc.want {
			t.Errorf("%s: %+v, want %s", tc.name, obs.finished, tc.want)
		}
	}
}

func intp(i int) *int { return &i }

func TestRoutesFromConfigFailoverTakesTheFirstsSettings(t *testing.T) {
	cfg := &config.Config{ConnectionString: "TLS:m1.example.org:9989:trustRoots=ca", FailoverMasters: []string{"m2.example.org:9990"}}
	routes, err := routesFromConfig(cfg)
	if err != nil || len(routes) != 2 {
		t.Fatalf("%v, %v", routes, err)
	}
	if want := (endpoint{TLS: true, Host: "m2.example.org", Port: 9990, TrustRoots: "ca"}); routes[1].master != want {
		t.Errorf("failover master %+v, want %+v", routes[1].master, want)
	}
	cfg = &config.Config{MasterHost: "m1", MasterPort: 1, ProxyConnectionString: "tcp:proxy:3128", FailoverMasters: []string{"m2:2"}}
	routes, err = routesFromConfig(cfg)
	if err != nil || routes[1].proxy == nil || routes[1].String() != "m2:2 via proxy proxy:3128" {
		t.Errorf("proxied failover: %v, %v", routes, err)
	}
	cfg.FailoverMasters = []string{"m2"}
	if _, err := routesFromConfig(cfg); err == nil {
		t.Errorf("a failover master without a port was accepted")
	}
}

// A round tries every master in order and says so, master by master.
func TestConnectRoundTriesEachMasterInOrder(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	silent := silentMaster(t)
	cfg := &config.Config{
		Basedir: t.TempDir(), MasterHost: "127.0.0.1", MasterPort: downPort,
		FailoverMasters: []string{"127.0.0.1:" + strconv.Itoa(silent)},
		Name:            "w1", Password: "pw", Keepalive: 1, Protocol: "pb",
	}
	obs := &recordingObserver{}
	w, err := newWorker(cfg, Options{Logger: slog.New(slog.DiscardHandler), Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	w.minLoginSilence = 300 * time.Millisecond
	connected, err := w.connectRound(context.Background())
	if connected || err == nil {
		t.Fatalf("connectRound = %v, %v; want a failure", connected, err)
	}
	down, up := "127.0.0.1:"+strconv.Itoa(downPort), "127.0.0.1:"+strconv.Itoa(silent)
	want := []Status{{State: StateDisconnected, Master: down}, {State: StateConnecting, Master: up}}
	if len(obs.states) != len(want) {
		t.Fatalf("states %+v, want %+v", obs.states, want)
	}
	for i, s := range obs.states {
		if s.State != want[i].State || s.Master != want[i].Master {
			t.Errorf("state %d: %+v, want %+v", i, s, want[i])
		}
	}
	if obs.states[0].Err == nil {
		t.Errorf("the first master's failure has no reason")
	}
	// The next round starts at the first master again.
	if w.route.master.Port != silent {
		t.Fatalf("route after the round: %v", w.route)
	}
	obs.states = nil
	_, _ = w.connectRound(context.Background())
	if len(obs.states) == 0 || obs.states[0].Master != down {
		t.Errorf("the next round did not start at the first master: %+v", obs.states)
	}
}

// pipeWriter and pipeReader answer every call at once.
type pipeWriter struct{ nullWriter }

func answered(context.Context) error { return nil }

func (pipeWriter) StartWrite([]byte) (func(context.Context) error, error) { return answered, nil }
func (pipeWriter) StartUtime(float64, float64) (func(context.Context) error, error) {
	return answered, nil
}
func (pipeWriter) StartClose() (func(context.Context) error, error)  { return answered, nil }
func (pipeWriter) StartUnpack() (func(context.Context) error, error) { return answered, nil }

type pipeReader struct {
	fixedReader
	recycled int
}

func (r *pipeReader) StartRead(n int) (func(context.Context) ([]byte, error), error) {
	data, err := r.Read(context.Background(), n)
	return func(context.Context) ([]byte, error) { return data, err }, nil
}
func (r *pipeReader) StartClose() (func(context.Context) error, error) { return answered, nil }
func (r *pipeReader) Recycle([]byte)                                   { r.recycled++ }

// The observer's wrappers keep a writer's or reader's pipelined calls (a
// transfer keeps its window only through them) and count what they move
// once it is answered.
func TestObservedTransfersStayPipelined(t *testing.T) {
	ctx := context.Background()
	obs := &recordingObserver{}
	inner := &pipeReader{fixedReader: fixedReader{left: 10}}
	args := command.Args{"writer": pipeWriter{}, "reader": inner, "plain": nullWriter{}}
	observeCommand(obs, "b1", "3", "upload", args, nullSink{})
	w, ok := args["writer"].(command.PipelinedWriter)
	if !ok {
		t.Fatalf("the observed writer %T does not pipeline", args["writer"])
	}
	r, ok := args["reader"].(command.PipelinedReader)
	if !ok {
		t.Fatalf("the observed reader %T does not pipeline", args["reader"])
	}
	if _, ok := args["plain"].(command.PipelinedWriter); ok {
		t.Errorf("a writer that does not pipeline became one")
	}
	wait, err := w.StartWrite(make([]byte, 100))
	if err != nil || obs.up != 0 {
		t.Fatalf("StartWrite: %v; %d bytes counted before the answer", err, obs.up)
	}
	if err := wait(ctx); err != nil || obs.up != 100 {
		t.Errorf("answered write: %v, %d bytes counted; want 100", err, obs.up)
	}
	read, _ := r.StartRead(64)
	block, err := read(ctx)
	if err != nil || len(block) != 10 || obs.down != 10 {
		t.Errorf("read %d bytes (%v), %d counted; want 10", len(block), err, obs.down)
	}
	rc, ok := args["reader"].(command.BlockRecycler)
	if !ok {
		t.Fatal("the observed reader does not hand blocks back")
	}
	rc.Recycle(block)
	if inner.recycled != 1 {
		t.Errorf("the block did not reach the reader's Recycle")
	}
}
