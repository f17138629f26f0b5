// The worker as the Windows service manager's program (see
// service_run_windows.go). Nothing here is Windows-only, so that it is
// tested on every system.

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/buildslave/buildslave/agent"
	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/service"
)

// serviceWorker is the worker as the service manager's program. A stop
// request from the manager is what SIGTERM is on Unix: a request for a
// graceful shutdown, which lets the running build finish.
type serviceWorker struct {
	a        *app
	basedir  string
	shutdown chan string // graceful shutdown requests, merged into the worker's own

	// exit ends the process; tests replace it.
	exit func(code int)

	mu       sync.Mutex
	cancel   context.CancelFunc
	done     chan struct{}
	stopping bool
}

func newServiceWorker(a *app, basedir string) *serviceWorker {
	w := &serviceWorker{basedir: basedir, shutdown: make(chan string, 1), exit: os.Exit}
	// The worker takes shutdown requests from runForeground, which knows
	// nothing of services: pass ours in beside them.
	wrapped := *a
	wrapped.runWorker = func(ctx context.Context, cfg *config.Config, opts agent.Options) error {
		// A service stop is the SIGTERM of other systems: a bounded stop.
		opts.Stop = mergeShutdown(ctx, opts.Stop, w.shutdown)
		return a.runWorker(ctx, cfg, opts)
	}
	w.a = &wrapped
	return w
}

// mergeShutdown forwards the requests of both channels (either may be
// nil) until ctx ends.
func mergeShutdown(ctx context.Context, a, b <-chan string) <-chan string {
	merged := make(chan string, 1)
	go func() {
		for {
			var reason string
			select {
			case <-ctx.Done():
				return
			case reason = <-a:
			case reason = <-b:
			}
			select {
			case merged <- reason:
			default: // one pending request is as good as several
			}
		}
	}()
	return merged
}

// Start runs the worker in the background of this process.
func (w *serviceWorker) Start() error {
	ctx, cancel := context.WithCancel(context.Background())
	w.mu.Lock()
	w.cancel, w.done = cancel, make(chan struct{})
	w.mu.Unlock()
	go func() {
		defer close(w.done)
		// The service has no console: the worker logs to twistd.log only.
		err := w.a.runForeground(ctx, io.Discard, w.basedir, startOptions{nodaemon: true, quiet: true})
		w.mu.Lock()
		stopping := w.stopping
		w.mu.Unlock()
		if !stopping {
			// The worker ended by itself (the master shut it down, or it
			// failed). Ending the process without telling the service
			// manager counts as a failure, which the recovery action
			// answers by starting the service again, as systemd's
			// Restart=always does.
			if err != nil {
				fmt.Fprintln(os.Stderr, "buildslave:", err)
			}
			w.exit(1)
		}
	}()
	return nil
}

// Stop asks the worker for a graceful shutdown and waits until it has
// stopped; after service.StopTimeout it stops the worker at once.
func (w *serviceWorker) Stop() error {
	done := w.beginStop()
	select {
	case w.shutdown <- "the service manager asked the worker to stop":
	default:
	}
	select {
	case <-done:
		return nil
	case <-time.After(service.StopTimeout):
		return w.Shutdown()
	}
}

// Shutdown stops the worker at once: Windows is shutting down and gives
// services seconds, not the time a build needs.
func (w *serviceWorker) Shutdown() error {
	done := w.beginStop()
	w.mu.Lock()
	if w.cancel != nil {
		w.cancel()
	}
	w.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-time.After(time.Minute):
		return errors.New("the worker did not stop")
	}
}

func (w *serviceWorker) beginStop() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopping = true
	if w.done == nil { // never started
		done := make(chan struct{})
		close(done)
		return done
	}
	return w.done
}
