package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/buildslave/buildslave/agent"
	"github.com/buildslave/buildslave/config"
)

// serviceTestApp runs run as the worker.
func serviceTestApp(run func(context.Context, agent.Options) error) *app {
	return &app{version: "test", stdout: io.Discard, stderr: io.Discard,
		runWorker: func(ctx context.Context, _ *config.Config, opts agent.Options) error { return run(ctx, opts) }}
}

func TestServiceWorkerStopIsGraceful(t *testing.T) {
	dir := workerDir(t)
	t.Chdir(t.TempDir()) // the worker enters its base directory
	reasons := make(chan string, 1)
	a := serviceTestApp(func(ctx context.Context, opts agent.Options) error {
		select {
		case reason := <-opts.Stop:
			reasons <- reason
			return agent.ErrShutdown
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	w := newServiceWorker(a, dir)
	w.exit = func(code int) { t.Errorf("the process would exit(%d) after a requested stop", code) }
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case reason := <-reasons:
		if !strings.Contains(reason, "service manager") {
			t.Errorf("shutdown reason %q", reason)
		}
	default:
		t.Fatal("the worker stopped without a graceful shutdown request")
	}
}

func TestServiceWorkerShutdownStopsAtOnce(t *testing.T) {
	dir := workerDir(t)
	t.Chdir(t.TempDir())
	cancelled := make(chan struct{})
	a := serviceTestApp(func(ctx context.Context, _ agent.Options) error {
		<-ctx.Done() // a worker whose build runs on
		close(cancelled)
		return ctx.Err()
	})
	w := newServiceWorker(a, dir)
	w.exit = func(code int) { t.Errorf("the process would exit(%d) after a system shutdown", code) }
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	if err := w.Shutdown(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-cancelled:
	default:
		t.Fatal("Shutdown returned before the worker was stopped")
	}
}

func TestServiceWorkerEndingByItselfFailsTheService(t *testing.T) {
	dir := workerDir(t)
	t.Chdir(t.TempDir())
	a := serviceTestApp(func(context.Context, agent.Options) error { return agent.ErrShutdown })
	w := newServiceWorker(a, dir)
	codes := make(chan int, 1)
	w.exit = func(code int) { codes <- code }
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-codes:
		if code == 0 {
			t.Error("exit status 0: the service manager would not restart the worker")
		}
	case <-time.After(time.Minute):
		t.Fatal("the process did not end with the worker")
	}
}
