package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/buildslave/buildslave/config"
)

// Graceful shutdown (TAC.md §6): the worker asks the master, the master
// lets the running build finish and then tells the worker to stop. Only
// a worker that is not connected stops on its own, at once.

// shutdownStampPoll is how often shutdown.stamp is looked at, as in the
// reference.
const shutdownStampPoll = 10 * time.Second

// ShutdownStampName is the file whose mtime, with allow_shutdown = "file",
// requests a graceful shutdown when it changes.
const ShutdownStampName = "shutdown.stamp"

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

// requestShutdown asks the master to shut the worker down once its builds
// are done, or stops the run if there is no master to ask.
func (w *worker) requestShutdown(ctx context.Context, reason string, stop context.CancelCauseFunc) {
	w.log.Info("Initiating shutdown because " + reason)
	s := w.session()
	if s == nil {
		w.log.Info("No active connection, shutting down NOW")
		stop(errShutdownNow)
		return
	}
	w.log.Info("Telling the master we want to shutdown after any running builds are finished")
	// The master answers once it has taken note; its own shutdown call,
	// which ends the run, comes when the worker is idle.
	go func() {
		cctx, cancel := context.WithTimeout(ctx, loginTimeout)
		defer cancel()
		if err := s.requestShutdown(cctx); err != nil && ctx.Err() == nil {
			w.log.Warn("the master did not take the shutdown request; the worker keeps running", "err", err)
		}
	}()
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
