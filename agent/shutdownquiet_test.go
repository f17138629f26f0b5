package agent

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/buildslave/buildslave/agent/command"
	"github.com/buildslave/buildslave/config"
)

// askless is a session whose protocol cannot ask for a graceful shutdown.
type askless struct{}

func (askless) serve(ctx context.Context) error       { <-ctx.Done(); return ctx.Err() }
func (askless) keepalive(context.Context) error       { return nil }
func (askless) requestShutdown(context.Context) error { return errNoShutdownRequest }
func (askless) close()                                {}

func TestShutdownWithoutARequestWaitsForAQuietPeriod(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses sh")
	}
	cfg := &config.Config{Basedir: t.TempDir(), MasterHost: "127.0.0.1", MasterPort: 1, Name: "w", Password: "p"}
	w, err := newWorker(cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	w.quietPeriod = 500 * time.Millisecond
	w.setSession(askless{})
	sink := newRecordingSink()
	args := command.Args{"command": []any{"sh", "-c", "sleep 1"}, "workdir": cfg.Basedir}
	if err := w.bot.startCommand(context.Background(), nil, false, "1", "shell", args, sink); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	asked := time.Now()
	w.requestShutdown(ctx, "the test asked", stop)
	w.requestShutdown(ctx, "the test asked again", stop) // changes nothing
	select {
	case <-ctx.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the worker did not stop")
	}
	took := time.Since(asked)
	select {
	case <-sink.complete:
	default:
		t.Fatal("the worker stopped while its command was still running")
	}
	if !errors.Is(context.Cause(ctx), errShutdownNow) || !errors.Is(stopReason(ctx), ErrShutdown) {
		t.Errorf("stopped with %v, want the graceful shutdown", context.Cause(ctx))
	}
	// The command's second, then half a second of quiet.
	if took < 1400*time.Millisecond {
		t.Errorf("stopped %v after the request, before the command's end and a quiet period", took)
	}
	t.Logf("stopped %v after the request", took.Round(10*time.Millisecond))
}

func TestShutdownWithoutARequestWhenIdleIsQuick(t *testing.T) {
	cfg := &config.Config{Basedir: t.TempDir(), MasterHost: "127.0.0.1", MasterPort: 1, Name: "w", Password: "p"}
	w, err := newWorker(cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	w.setSession(askless{})
	ctx, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	w.requestShutdown(ctx, "the test asked", stop)
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a worker that never ran a command did not stop at once")
	}
}
