package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/buildslave/buildslave/config"
)

// Graceful shutdown (TAC.md §6): over PB the worker asks the master, the
// master lets the running build finish and then tells the worker to stop.
// A worker that is not connected stops on its own, at once.
//
// msgpack has no way to ask (MSGPACK.md §3.3), so there the worker decides
// by itself: it stops — disconnects, and Run returns ErrShutdown, which
// exits 0 — once no command has run for quietPeriod. A running command is
// never cut short by the request, and neither is a build between two of
// its steps, as long as the master starts the next step within
// quietPeriod (it normally does within a second). The limit: a build
// whose master-side steps (or locks, or a slow master) keep this worker
// idle for longer than quietPeriod is lost between steps, and the master
// retries or fails it as for any worker that goes away; and the master
// may start a new build during the wait, which then keeps the worker
// running until that build too has been quiet for quietPeriod.

// shutdownStampPoll is how often shutdown.stamp is looked at, as in the
// reference.
const shutdownStampPoll = 10 * time.Second

// ShutdownStampName is the file whose mtime, with allow_shutdown = "file",
// requests a graceful shutdown when it changes.
const ShutdownStampName = "shutdown.stamp"

// quietPeriod is how long a worker whose protocol cannot ask the master
// for a graceful shutdown waits, after its last command, before it stops.
const quietPeriod = 10 * time.Second

// errShutdownNow cancels the run: a graceful shutdown was asked for while
// no master was there to ask.
var errShutdownNow = errors.New("shutdown requested while not connected")

// serveShutdownRequests turns requests (the caller's, and shutdown.stamp's
// when so configured) into graceful shutdowns until ctx ends. stop ends
// the run when there is no master to ask.
func (w *worker) serveShutdownRequests(ctx context.Context, requests <-chan string, stop context.CancelCauseFunc) {
	var stamp <-chan string
	if w.cfg.AllowShutdown == config.ShutdownFile {
		c := make(chan string, 1)
		path := filepath.Join(w.cfg.Basedir, ShutdownStampName)
		w.log.Info("Watching " + path + "'s mtime to initiate shutdown")
		go watchShutdownStamp(ctx, path, shutdownStampPoll, c)
		stamp = c
	}
	for {
		var reason string
		select {
		case <-ctx.Done():
			return
		case reason = <-requests:
		case reason = <-stamp:
		}
		w.requestShutdown(ctx, reason, stop)
	}
}

// sessionToAsk returns the session through which to ask the master for a
// graceful shutdown; with none, it stops the run at once and returns nil.
func (w *worker) sessionToAsk(stop context.CancelCauseFunc) session {
	s := w.session()
	if s == nil {
		w.log.Info("No active connection, shutting down NOW")
		stop(errShutdownNow)
		return nil
	}
	w.log.Info("Telling the master we want to shutdown after any running builds are finished")
	return s
}

// requestShutdown asks the master to shut the worker down once its builds
// are done, or stops the run if there is no master to ask.
func (w *worker) requestShutdown(ctx context.Context, reason string, stop context.CancelCauseFunc) {
	w.log.Info("Initiating shutdown because " + reason)
	s := w.sessionToAsk(stop)
	if s == nil {
		return
	}
	if w.cfg.Protocol == config.ProtocolMsgpack {
		w.log.Info(fmt.Sprintf("(over %s the master cannot be told: the worker stops once no command has run for %v)",
			config.ProtocolMsgpack, w.quiet()))
	}
	// The master answers once it has taken note; its own shutdown call,
	// which ends the run, comes when the worker is idle.
	go func() {
		cctx, cancel := context.WithTimeout(ctx, loginTimeout)
		defer cancel()
		err := s.requestShutdown(cctx)
		if errors.Is(err, errNoShutdownRequest) {
			w.shutdownWhenQuiet(ctx, stop)
			return
		}
		if err != nil && ctx.Err() == nil {
			w.log.Warn("the master did not take the shutdown request; the worker keeps running", "err", err)
		}
	}()
}

// shutdownWhenQuiet stops the run once no command has run for the quiet
// period, whatever connections come and go meanwhile. A second request
// while one waits changes nothing.
func (w *worker) shutdownWhenQuiet(ctx context.Context, stop context.CancelCauseFunc) {
	if !w.waitingQuiet.CompareAndSwap(false, true) {
		return
	}
	quiet := w.quiet()
	tick := time.NewTicker(min(quiet/10, time.Second))
	defer tick.Stop()
	for {
		running, last := w.bot.activity()
		if running == 0 && time.Since(last) >= quiet {
			w.log.Info(fmt.Sprintf("no command has run for %v: shutting down", quiet))
			stop(errShutdownNow)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (w *worker) quiet() time.Duration {
	if w.quietPeriod > 0 {
		return w.quietPeriod
	}
	return quietPeriod
}

// watchShutdownStamp sends on fire whenever the file at path gets a newer
// mtime than the one it last saw. It looks at once, then every interval;
// a file already there at start only sets the starting point.
func watchShutdownStamp(ctx context.Context, path string, interval time.Duration, fire chan<- string) {
	var seen time.Time
	if fi, err := os.Stat(path); err == nil {
		seen = fi.ModTime()
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		if fi, err := os.Stat(path); err == nil && fi.ModTime().After(seen) {
			seen = fi.ModTime()
			select {
			case fire <- path + " was touched":
			default: // one pending request is enough
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
