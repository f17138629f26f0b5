package agent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/internal/pytext"
)

// Timeouts of one connection attempt.
const (
	dialTimeout      = 30 * time.Second
	handshakeTimeout = 30 * time.Second
	// The master answers the login only after it has attached the worker
	// (info, builder list): give a busy master time.
	loginTimeout = 2 * time.Minute
	// minKeepaliveDeadline keeps a tiny keepalive interval from declaring a
	// healthy but briefly busy master dead.
	minKeepaliveDeadline = 5 * time.Second
	// minLoginSilence is the least silence that ends a login: the master
	// does some database work between the calls it makes while it
	// attaches a worker.
	minLoginSilence = 10 * time.Second
	// shutdownDelay lets the answer to the master's shutdown call leave
	// before the connection closes, as the reference's 0.2 s does.
	shutdownDelay = 200 * time.Millisecond
)

// Run connects to the master and serves it until ctx ends (nil), the master
// shuts the worker down (ErrShutdown), or the worker gives up for good
// (ErrDuplicateWorker, ErrMaxRetries).
func Run(ctx context.Context, cfg *config.Config, opts Options) error {
	w, err := newWorker(cfg, opts)
	if err == nil {
		prepareRun(cfg, w.log)
		ctx, stop := context.WithCancelCause(ctx)
		defer stop(nil)
		go w.serveShutdownRequests(ctx, opts.Shutdown, stop)
		go w.serveStopRequests(ctx, opts.Stop, cmp.Or(opts.stopBound, StopBound), stop)
		err = w.run(ctx)
	}
	w.report(Status{State: StateStopped, Err: err})
	return err
}

type worker struct {
	cfg    *config.Config
	log    *slog.Logger
	status func(Status)
	bot    *bot
	route  route
	master string // for messages: the master's address, or the route

	proto wireProtocol

	observer Observer // never nil
	routes   []route  // the master, then the failover masters (see useRoute)

	mu      sync.Mutex
	current session // nil while not logged in

	// The login's name and password, in the configured encoding.
	loginName, loginPassword []byte

	// minLoginSilence and quietPeriod override the constants of those
	// names, for tests.
	minLoginSilence time.Duration
	quietPeriod     time.Duration
	waitingQuiet    atomic.Bool // a shutdown waits for a quiet period

	// stopping is set by the first stop request (see stoppolicy.go).
	stopping atomic.Bool
}

func newWorker(cfg *config.Config, opts Options) (*worker, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	version := opts.Version
	if version == "" {
		version = "dev"
	}
	w := &worker{cfg: cfg, log: logger, status: opts.Status, observer: observerOrNop(opts.Observer)}
	routes, err := routesFromConfig(cfg)
	if err != nil {
		return w, fmt.Errorf("connection settings: %w", err)
	}
	w.routes = routes
	w.useRoute(routes[0])
	if w.proto, err = protocolFor(cfg.Protocol); err != nil {
		return w, err
	}
	// The reference sends both in its unicode_encoding; what cannot be
	// encoded is a configuration error, not a reason to retry.
	if w.loginName, err = pytext.Encode(cfg.UnicodeEncoding, cfg.Name); err != nil {
		return w, fmt.Errorf("the worker name: %w", err)
	}
	if w.loginPassword, err = pytext.Encode(cfg.UnicodeEncoding, cfg.Password); err != nil {
		return w, fmt.Errorf("the password: %w", err)
	}
	w.bot = newBot(cfg, logger, version)
	w.bot.observer = w.observer
	w.bot.startProcess = opts.StartProcess
	return w, nil
}

func (w *worker) report(s Status) {
	if s.Master == "" && w.route.master.Host != "" {
		s.Master = w.route.String()
	}
	w.observer.StateChanged(s)
	if w.status != nil {
		w.status(s)
	}
}

func (w *worker) run(ctx context.Context) error {
	w.log.Info("Starting Worker -- version: "+w.bot.version, "master", w.route.String(), "name", w.cfg.Name, "basedir", w.cfg.Basedir)
	failures := 0
	var lastRefusal bool
	for {
		w.report(Status{State: StateConnecting})
		connected, err := w.connectRound(ctx)
		if ctx.Err() != nil {
			return stopReason(ctx)
		}
		if w.stopRequested() {
			w.log.Info("the connection ended while stopping: not reconnecting", "err", err)
			return ErrShutdown
		}
		var refused *LoginRefusedError
		switch {
		case errors.Is(err, ErrShutdown), errors.Is(err, ErrDuplicateWorker):
			return err
		case errors.As(err, &refused):
			// Logged once per change: a master being reconfigured may
			// accept us later, and a log full of the same line helps no one.
			if !lastRefusal {
				w.log.Error("unauthorized login; check worker name and password", "master", w.master, "name", w.cfg.Name)
			}
			lastRefusal = true
			w.report(Status{State: StateLoginRefused, Err: err})
		default:
			lastRefusal = false
			w.log.Warn("connection to the master ended", "master", w.master, "err", err)
			w.report(Status{State: StateDisconnected, Err: err})
		}
		if connected {
			failures = 0
		}
		failures++
		if w.cfg.MaxRetries > 0 && failures >= w.cfg.MaxRetries {
			return fmt.Errorf("%w (%d attempts; last: %w)", ErrMaxRetries, failures, err)
		}
		delay := backoff(failures, w.maxDelay())
		w.log.Info("reconnecting", "in", delay.Round(time.Millisecond).String(), "attempt", failures+1)
		select {
		case <-ctx.Done():
			return stopReason(ctx)
		case <-time.After(delay):
		}
	}
}

// stopReason is what run returns once its context has ended: ErrShutdown
// for a graceful shutdown asked for while not connected, nil for the
// caller's cancellation.
func stopReason(ctx context.Context) error {
	if errors.Is(context.Cause(ctx), errShutdownNow) {
		return ErrShutdown
	}
	return nil
}

func (w *worker) maxDelay() time.Duration {
	if w.cfg.MaxDelay > 0 {
		return time.Duration(w.cfg.MaxDelay) * time.Second
	}
	return config.DefaultMaxDelay * time.Second
}

// backoff is the wait before attempt n+1 after n failures: exponential from
// about a second, capped at max, with up to a second of jitter so that a
// fleet does not reconnect in step after a master restart.
func backoff(failures int, max time.Duration) time.Duration {
	d := time.Second
	for i := 1; i < failures && d < max; i++ {
		d = d * 3 / 2
	}
	if d > max {
		d = max
	}
	return d + time.Duration(rand.Int64N(int64(time.Second)))
}

// protocolFor is the wire protocol of the configured name.
func protocolFor(name string) (wireProtocol, error) {
	switch name {
	case "", config.ProtocolPB:
		return pbProtocol{}, nil
	case config.ProtocolMsgpack:
		return msgpackProtocol{}, nil
	}
	return nil, fmt.Errorf("protocol %q is not one of %q, %q", name, config.ProtocolPB, config.ProtocolMsgpack)
}

// connectOnce runs one connection from dial to end. connected says whether
// the login succeeded, which resets the backoff.
func (w *worker) connectOnce(ctx context.Context) (connected bool, err error) {
	started := time.Now()
	conn, err := w.route.dial(ctx)
	if err != nil {
		return false, err
	}
	w.log.Info("connected to the master's port", "master", w.route.String(), "after", time.Since(started).Round(time.Millisecond).String())
	s, err := w.proto.login(ctx, conn, loginParams{
		master:       w.master,
		name:         w.cfg.Name,
		username:     w.loginName,
		password:     w.loginPassword,
		passwordText: w.cfg.Password,
		silence:      w.loginSilence(),
		bot:          w.bot,
		log:          w.log,
	})
	if err != nil {
		return false, err
	}
	w.setSession(s)
	defer w.setSession(nil)
	w.log.Info("Connected to buildmaster; worker is ready", "master", w.route.String())
	w.report(Status{State: StateConnected})

	kctx, stopKeepalive := context.WithCancel(ctx)
	defer stopKeepalive()
	go w.keepalive(kctx, s)
	return true, s.serve(ctx)
}

// loginSilence is how long the master may say nothing while we log in:
// about two keepalive intervals, as for a connection that is up, within
// [minLoginSilence, loginTimeout].
func (w *worker) loginSilence() time.Duration {
	if w.cfg.Keepalive <= 0 {
		return loginTimeout
	}
	return min(max(2*time.Duration(w.cfg.Keepalive)*time.Second, w.silenceFloor()), loginTimeout)
}

func (w *worker) silenceFloor() time.Duration {
	if w.minLoginSilence > 0 {
		return w.minLoginSilence
	}
	return minLoginSilence
}

// setSession records the logged-in session, for graceful shutdown
// requests.
func (w *worker) setSession(s session) {
	w.mu.Lock()
	w.current = s
	w.mu.Unlock()
}

func (w *worker) session() session {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.current
}

// keepalive sends a keepalive every interval and drops the connection when
// an answer does not come within the interval: unlike the reference, a
// half-open connection is noticed, within about two intervals.
func (w *worker) keepalive(ctx context.Context, s session) {
	if w.cfg.Keepalive <= 0 {
		return
	}
	interval := time.Duration(w.cfg.Keepalive) * time.Second
	deadline := max(interval, minKeepaliveDeadline)
	w.log.Info(fmt.Sprintf("sending application-level keepalives every %d seconds", w.cfg.Keepalive))
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		w.log.Debug("sending app-level keepalive")
		cctx, cancel := context.WithTimeout(ctx, deadline)
		sent := time.Now()
		err := s.keepalive(cctx)
		// A protocol may end the session itself on a missed reply (the
		// msgpack ping does), which ends ctx too: the deadline still
		// says why.
		timedOut := errors.Is(cctx.Err(), context.DeadlineExceeded)
		cancel()
		if err == nil {
			w.observer.KeepaliveAnswered(time.Since(sent))
			continue
		}
		if ctx.Err() != nil && !timedOut {
			return
		}
		w.log.Warn("keepalive failed; dropping the connection", "err", err)
		s.close()
		return
	}
}
