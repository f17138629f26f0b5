package agent

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/internal/mastertest"
	"github.com/buildslave/buildslave/internal/syncbuf"
)

// These tests run the agent in-process against a real Buildbot master; the
// integration package does the same through the built binary.

type runningWorker struct {
	log    *syncbuf.Buffer
	states chan Status
	done   chan error
	cancel context.CancelFunc
}

func runAgent(t *testing.T, m *mastertest.Master, name, password string, tweak func(*config.Config)) *runningWorker {
	t.Helper()
	base := t.TempDir()
	if err := os.MkdirAll(filepath.Join(base, "info"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "info", "admin"), []byte("Test Admin <admin@example.org>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "info", "host"), []byte("agent test host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{
		Basedir:    base,
		MasterHost: "127.0.0.1",
		MasterPort: m.PBPort(),
		Name:       name,
		Password:   password,
		Keepalive:  600,
		MaxDelay:   2,
		Protocol:   "pb",
	}
	if tweak != nil {
		tweak(cfg)
	}
	w := &runningWorker{log: &syncbuf.Buffer{}, states: make(chan Status, 100), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	logger := slog.New(slog.NewTextHandler(w.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() {
		w.done <- Run(ctx, cfg, Options{Logger: logger, Version: "test", Status: func(s Status) {
			select {
			case w.states <- s:
			default:
			}
		}})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-w.done:
			_ = err // the test has already judged the run
		case <-time.After(20 * time.Second):
			t.Error("the worker did not stop")
		}
		if t.Failed() {
			t.Logf("worker log:\n%s", w.log.String())
		}
	})
	return w
}

// overProtocol sets a worker's protocol and the master's port for it.
func overProtocol(m *mastertest.Master, protocol string) func(*config.Config) {
	return func(c *config.Config) {
		c.Protocol = protocol
		c.MasterPort = m.MsgpackPort()
		if protocol == config.ProtocolPB {
			c.MasterPort = m.PBPort()
		}
	}
}

// forEachProtocol runs test once per worker protocol.
func forEachProtocol(t *testing.T, test func(t *testing.T, protocol string)) {
	for _, p := range mastertest.Protocols {
		t.Run(p, func(t *testing.T) { test(t, p) })
	}
}

func TestAgentRunsShellBuild(t *testing.T) { forEachProtocol(t, testAgentRunsShellBuild) }

func testAgentRunsShellBuild(t *testing.T, protocol string) {
	m := mastertest.Start(t, mastertest.Options{
		Workers: []mastertest.WorkerSpec{{Name: "w1", Password: "pass1"}},
		Builders: `
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="hello", command=["sh", "-c", "echo hello; echo oops >&2"]))
f.addStep(steps.ShellCommand(name="fail", command="echo $FOO; exit 3", env={"FOO": "from-env"}))
c['builders'].append(util.BuilderConfig(name="b1", workernames=["w1"], factory=f))
`,
		ForceSchedulers: []string{"b1"},
	})
	runAgent(t, m, "w1", "pass1", overProtocol(m, protocol))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	wk, err := m.WaitWorkerConnected(ctx, "w1")
	if err != nil {
		t.Fatal(err)
	}
	if got := wk.WorkerInfo["admin"]; got != "Test Admin <admin@example.org>\n" {
		t.Errorf("admin = %q", got)
	}
	buildID, err := m.ForceBuild(ctx, "b1", nil)
	if err != nil {
		t.Fatal(err)
	}
	build, err := m.WaitBuild(ctx, buildID)
	if err != nil {
		t.Fatal(err)
	}
	if build.Results != mastertest.FAILURE {
		t.Errorf("build result = %v, want FAILURE (the second step exits 3)", build.Results)
	}
	steps, err := m.Steps(ctx, buildID)
	if err != nil {
		t.Fatal(err)
	}
	results := map[string]mastertest.Result{}
	for _, s := range steps {
		results[s.Name] = s.Results
	}
	if results["hello"] != mastertest.SUCCESS || results["fail"] != mastertest.FAILURE {
		t.Errorf("step results = %v", results)
	}
	log, err := m.StepLog(ctx, buildID, "hello", "stdio")
	if err != nil {
		t.Fatal(err)
	}
	stdio, err := m.StdioLog(ctx, log.LogID)
	if err != nil {
		t.Fatal(err)
	}
	if stdio.Stdout() != "hello\n" || stdio.Stderr() != "oops\n" {
		t.Errorf("stdout %q stderr %q", stdio.Stdout(), stdio.Stderr())
	}
	if !strings.Contains(stdio.Header(), "program finished with exit code 0") {
		t.Errorf("header:\n%s", stdio.Header())
	}
	log, err = m.StepLog(ctx, buildID, "fail", "stdio")
	if err != nil {
		t.Fatal(err)
	}
	stdio, _ = m.StdioLog(ctx, log.LogID)
	if stdio.Stdout() != "from-env\n" {
		t.Errorf("fail stdout %q", stdio.Stdout())
	}
}

func TestAgentWrongPasswordRetriesThenGivesUp(t *testing.T) {
	forEachProtocol(t, testAgentWrongPasswordRetriesThenGivesUp)
}

func testAgentWrongPasswordRetriesThenGivesUp(t *testing.T, protocol string) {
	m := mastertest.Start(t, mastertest.Options{
		Workers: []mastertest.WorkerSpec{{Name: "w1", Password: "pass1"}},
		Builders: `
c['builders'].append(util.BuilderConfig(name="b1", workernames=["w1"], factory=util.BuildFactory()))
`,
		ForceSchedulers: []string{"b1"},
	})
	w := runAgent(t, m, "w1", "not-the-password", func(c *config.Config) {
		overProtocol(m, protocol)(c)
		c.MaxRetries = 2
	})
	select {
	case err := <-w.done:
		w.done <- err // for the cleanup
		if !errors.Is(err, ErrMaxRetries) {
			t.Errorf("Run = %v, want ErrMaxRetries", err)
		}
		if strings.Contains(err.Error(), "not-the-password") {
			t.Errorf("error reveals the password: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the worker did not give up")
	}
	refused := false
	for len(w.states) > 0 {
		s := <-w.states
		if s.State == StateLoginRefused {
			refused = true
			var lr *LoginRefusedError
			if !errors.As(s.Err, &lr) || lr.Name != "w1" {
				t.Errorf("refusal = %v", s.Err)
			}
		}
	}
	if !refused {
		t.Error("no login refusal reported")
	}
	if strings.Contains(w.log.String(), "not-the-password") {
		t.Error("the log reveals the password")
	}
}
