package agent

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/internal/mastertest"
)

// silencingRelay forwards connections to a master until it is silenced:
// then what it reads is swallowed and nothing is closed, which is what a
// connection looks like to the worker when the path to the master dies
// (a half-open connection). New connections are forwarded again.
type silencingRelay struct {
	ln       net.Listener
	target   string
	silenced atomic.Bool
	accepted chan time.Time

	mu    sync.Mutex
	conns []net.Conn
}

func newSilencingRelay(t *testing.T, target string) *silencingRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &silencingRelay{ln: ln, target: target, accepted: make(chan time.Time, 16)}
	t.Cleanup(func() {
		ln.Close()
		r.mu.Lock()
		for _, c := range r.conns {
			c.Close()
		}
		r.mu.Unlock()
	})
	go r.serve()
	return r
}

func (r *silencingRelay) port() int { return r.ln.Addr().(*net.TCPAddr).Port }

func (r *silencingRelay) serve() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		m, err := net.Dial("tcp", r.target)
		if err != nil {
			c.Close()
			continue
		}
		r.mu.Lock()
		r.conns = append(r.conns, c, m)
		r.mu.Unlock()
		// Only connections made after a silence are forwarded again.
		r.silenced.Store(false)
		select {
		case r.accepted <- time.Now():
		default:
		}
		go r.pipe(c, m)
		go r.pipe(m, c)
	}
}

func (r *silencingRelay) pipe(from, to net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 && !r.silenced.Load() {
			if _, werr := to.Write(buf[:n]); werr != nil {
				_, _ = io.Copy(io.Discard, from)
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestAgentRedialsASilencedConnection silences a logged-in connection and
// measures how long the worker takes to notice and dial again: within
// about two keepalive intervals, over both protocols. Over msgpack the
// keepalive is a WebSocket ping, which the real master answers.
func TestAgentRedialsASilencedConnection(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, protocol string) {
		m := mastertest.Start(t, mastertest.Options{
			Workers:         []mastertest.WorkerSpec{{Name: "w1", Password: "pass1"}},
			Builders:        `c['builders'].append(util.BuilderConfig(name="b1", workernames=["w1"], factory=util.BuildFactory()))`,
			ForceSchedulers: []string{"b1"},
		})
		target := m.WorkerAddr(protocol)
		relay := newSilencingRelay(t, target)
		// Not below minKeepaliveDeadline, which would make the deadline
		// longer than the interval.
		const interval = minKeepaliveDeadline
		w := runAgent(t, m, "w1", "pass1", func(c *config.Config) {
			overProtocol(m, protocol)(c)
			c.MasterPort = relay.port()
			c.Keepalive = int(interval / time.Second)
			c.MaxDelay = 1
		})
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
			t.Fatal(err)
		}
		<-relay.accepted
		// A healthy keepalive first: the master answers it.
		time.Sleep(interval + interval/2)
		if s := w.log.String(); containsAny(s, "keepalive failed") {
			t.Fatalf("a keepalive failed on a healthy connection:\n%s", s)
		}
		silenced := time.Now()
		relay.silenced.Store(true)
		select {
		case at := <-relay.accepted:
			took := at.Sub(silenced)
			t.Logf("%s: silenced connection re-dialled after %v (keepalive %v)", protocol, took.Round(10*time.Millisecond), interval)
			// Noticed after at most interval+deadline (2 intervals), then
			// the first backoff: about a second, plus up to a second of
			// jitter.
			if took > 2*interval+2*time.Second+500*time.Millisecond {
				t.Errorf("re-dialled after %v, want within about two keepalive intervals (%v)", took, 2*interval)
			}
		case <-ctx.Done():
			t.Fatal("the worker never dialled again")
		}
		if !containsAny(w.log.String(), "keepalive failed; dropping the connection") {
			t.Errorf("the log does not say why the connection was dropped")
		}
		// And the new connection logs in again.
		deadline := time.Now().Add(60 * time.Second)
		for {
			wk, err := m.Worker(ctx, "w1")
			if err == nil && wk.Connected() && time.Since(silenced) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the worker did not connect again")
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
