package agent

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/internal/syncbuf"
)

func TestWatchShutdownStamp(t *testing.T) {
	path := filepath.Join(t.TempDir(), ShutdownStampName)
	old := time.Now().Add(-time.Hour)
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fire := make(chan string, 1)
	go watchShutdownStamp(ctx, path, 10*time.Millisecond, fire)

	// A stamp that was there at start is the starting point, not a request.
	select {
	case r := <-fire:
		t.Fatalf("fired for the existing stamp: %s", r)
	case <-time.After(200 * time.Millisecond):
	}
	now := time.Now()
	if err := os.Chtimes(path, now, now); err != nil {
		t.Fatal(err)
	}
	select {
	case <-fire:
	case <-time.After(10 * time.Second):
		t.Fatal("touching the stamp did not fire")
	}
	// Once only per touch.
	select {
	case r := <-fire:
		t.Fatalf("fired again without a touch: %s", r)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestShutdownWhileNotConnectedStopsAtOnce(t *testing.T) {
	// A port nothing listens on: the worker keeps failing to connect.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cfg := &config.Config{Basedir: t.TempDir(), MasterHost: "127.0.0.1", MasterPort: port,
		Name: "w", Password: "p", MaxDelay: 60}
	requests := make(chan string, 1)
	var log syncbuf.Buffer
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), cfg, Options{Logger: slog.New(slog.NewTextHandler(&log, nil)), Shutdown: requests})
	}()
	requests <- "the test asked"
	select {
	case err := <-done:
		if !errors.Is(err, ErrShutdown) {
			t.Errorf("Run = %v, want ErrShutdown", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
	}
	for _, want := range []string{"Initiating shutdown because the test asked", "No active connection, shutting down NOW"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}

func TestRunRejectsBadConnectionSettings(t *testing.T) {
	cfg := &config.Config{Basedir: t.TempDir(), ConnectionString: "unix:/tmp/sock", Name: "w", Password: "p"}
	err := Run(context.Background(), cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "connection settings") {
		t.Errorf("Run = %v", err)
	}
}
