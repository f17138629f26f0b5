package main

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/buildslave/buildslave/agent"
	"github.com/buildslave/buildslave/internal/syncbuf"
)

func TestStartPagesAreReleasedOnceAtTheFirstLogin(t *testing.T) {
	var buf syncbuf.Buffer
	r := newStartPagesReleaser(slog.New(slog.NewTextHandler(&buf, nil)))
	r.settle = 0
	var calls atomic.Int32
	r.release = func() (int64, int64, error) {
		calls.Add(1)
		return 12 << 20, 6 << 20, nil
	}
	r.StateChanged(agent.Status{State: agent.StateConnecting})
	if calls.Load() != 0 {
		t.Fatal("released before the worker logged in")
	}
	r.StateChanged(agent.Status{State: agent.StateConnected})
	<-r.done
	r.StateChanged(agent.Status{State: agent.StateDisconnected})
	r.StateChanged(agent.Status{State: agent.StateConnected})
	if n := calls.Load(); n != 1 {
		t.Errorf("released %d times, want once", n)
	}
	if log := buf.String(); !strings.Contains(log, `rss_before="12.0 MB" rss_after="6.0 MB"`) {
		t.Errorf("log: %s", log)
	}
}

func TestStartPagesUnsupportedIsQuiet(t *testing.T) {
	var buf bytes.Buffer
	r := newStartPagesReleaser(slog.New(slog.NewTextHandler(&buf, nil)))
	r.settle = 0
	r.release = func() (int64, int64, error) { return 0, 0, errors.ErrUnsupported }
	r.StateChanged(agent.Status{State: agent.StateConnected})
	<-r.done
	if buf.Len() != 0 {
		t.Errorf("log: %s", buf.String())
	}
}
