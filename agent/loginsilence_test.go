package agent

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/protocol/banana"
)

// silentMaster accepts connections, offers the PB dialect, and then never
// answers: a master that died half-way through a login.
func silentMaster(t *testing.T) (port int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	offer, err := banana.Encode([]any{[]byte("pb"), []byte("none")}, false)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_, _ = conn.Write(offer)
				_, _ = io.Copy(io.Discard, conn) // until the worker hangs up
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestLoginToASilentMasterIsDropped(t *testing.T) {
	port := silentMaster(t)
	cfg := &config.Config{
		Basedir:    t.TempDir(),
		MasterHost: "127.0.0.1",
		MasterPort: port,
		Name:       "w1",
		Password:   "pw",
		Keepalive:  1,
		Protocol:   "pb",
	}
	w, err := newWorker(cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	w.minLoginSilence = 500 * time.Millisecond
	if got := w.loginSilence(); got != 2*time.Second {
		t.Errorf("loginSilence = %v with keepalive 1, want 2s", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	connected, err := w.connectOnce(ctx)
	took := time.Since(start)
	if connected || err == nil || !strings.Contains(err.Error(), "went silent during the login") {
		t.Fatalf("connectOnce = %v, %v; want the silent login dropped", connected, err)
	}
	// Two seconds of silence, noticed at the next tick of a quarter of that.
	if took > 10*time.Second {
		t.Errorf("the silent login was dropped after %v, want about 2s", took)
	}
	t.Logf("silent login dropped after %v", took.Round(10*time.Millisecond))
}

func TestLoginSilenceBounds(t *testing.T) {
	for keepalive, want := range map[int]time.Duration{
		0:    loginTimeout, // keepalives disabled: only the login timeout
		1:    minLoginSilence,
		10:   20 * time.Second,
		600:  loginTimeout,
		3600: loginTimeout,
	} {
		w := &worker{cfg: &config.Config{Keepalive: keepalive}}
		if got := w.loginSilence(); got != want {
			t.Errorf("keepalive %d: loginSilence = %v, want %v", keepalive, got, want)
		}
	}
}
