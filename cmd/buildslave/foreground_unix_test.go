//go:build unix

package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/buildslave/buildslave/agent"
	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/internal/syncbuf"
)

func TestHandleSignals(t *testing.T) {
	for _, allow := range []string{"", config.ShutdownSignal} {
		var log syncbuf.Buffer
		shutdown, stopReq := make(chan string, 1), make(chan string, 1)
		stopped := make(chan struct{})
		stop := handleSignals(allow, slog.New(slog.NewTextHandler(&log, nil)), shutdown, stopReq, func() { close(stopped) })

		_ = syscall.Kill(syscall.Getpid(), syscall.SIGHUP)
		if allow == config.ShutdownSignal {
			if got := receive(t, shutdown); got != "we got SIGHUP" {
				t.Errorf("SIGHUP asked %q", got)
			}
		} else {
			waitLog(t, &log, "ignoring SIGHUP")
		}
		_ = syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
		if got := receive(t, stopReq); got != "we got SIGTERM" {
			t.Errorf("SIGTERM asked %q", got)
		}
		_ = syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
			t.Fatal("a second SIGTERM did not stop the worker")
		}
		stop()
		if allow == "" && len(shutdown) != 0 {
			t.Error("the ignored SIGHUP asked for a shutdown")
		}
	}
}

func receive(t *testing.T, c <-chan string) string {
	t.Helper()
	select {
	case s := <-c:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no shutdown request")
		return ""
	}
}

func waitLog(t *testing.T, log *syncbuf.Buffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(log.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("log lacks %q: %s", want, log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestExitStatus(t *testing.T) {
	if got := exitStatus(fmt.Errorf("wrapped: %w", agent.ErrMaxRetries)); got != exitMaxRetries {
		t.Errorf("maxretries: %d", got)
	}
	if got := exitStatus(errors.New("other")); got != 1 {
		t.Errorf("other: %d", got)
	}
}
