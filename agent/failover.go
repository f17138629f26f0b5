package agent

import (
	"context"
	"errors"
)

// Master failover: with failover_masters the worker has several routes,
// tried in order on every (re)connection. The first one that logs in is
// kept until that connection ends; the next round starts at the first
// again, so a worker returns to its preferred master at its next
// reconnection, never by dropping a working connection. A round in which
// every master failed counts as one failed attempt for the backoff and
// maxretries.

// connectRound runs connectOnce along each route in turn until one logs in
// or a failure ends the run; it returns that connection's outcome or the
// last failure.
func (w *worker) connectRound(ctx context.Context) (connected bool, err error) {
	for i, r := range w.routes {
		if i > 0 {
			w.log.Warn("the master cannot be reached; trying the next one", "failed", w.route.String(), "err", err, "next", r.String())
			w.report(Status{State: StateDisconnected, Err: err})
		}
		w.useRoute(r)
		if i > 0 {
			w.report(Status{State: StateConnecting})
		}
		connected, err = w.connectOnce(ctx)
		if connected || ctx.Err() != nil || errors.Is(err, ErrShutdown) || errors.Is(err, ErrDuplicateWorker) {
			return connected, err
		}
	}
	return false, err
}

// useRoute makes r the route connectOnce dials. It runs on the connection
// loop's goroutine between connections, when nothing else reads them.
func (w *worker) useRoute(r route) {
	w.route = r
	w.master = r.master.addr()
}
