package agent

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// StopBound is the longest the worker takes to exit after the first stop
// request (SIGTERM or SIGINT; Options.Stop): it then interrupts whatever
// still runs and exits. It stays below the service definitions' stop
// timeout (service.StopTimeout), so that the worker ends its builds and
// says goodbye to the master itself rather than being killed with them.
const StopBound = 55 * time.Minute

// stopPoll is how often a stopping worker looks for running commands.
const stopPoll = 200 * time.Millisecond

// serveStopRequests carries out the first stop request: from then on the
// worker never connects again (see stopRequested), and it exits
//
//   - at once when it is not connected;
//   - when the master, asked for a graceful shutdown, tells it to (once
//     the running build is done: the master's shutdown call ends the run);
//   - if the master refuses that request, as soon as no command runs;
//   - when the connection ends (a master restarted mid-shutdown): the run
//     loop does not reconnect;
//   - in any case within bound (StopBound unless a test says otherwise).
//
// stop ends the run, interrupting what runs.
func (w *worker) serveStopRequests(ctx context.Context, requests <-chan string, bound time.Duration, stop context.CancelCauseFunc) {
	var reason string
	select {
	case <-ctx.Done():
		return
	case reason = <-requests:
	}
	w.stopping.Store(true)
	deadline := time.Now().Add(bound)
	w.log.Info("Initiating shutdown because " + reason)
	w.log.Info("the worker will not reconnect, and exits once the master lets it (at most " + bound.String() + " from now)")
	s := w.sessionToAsk(stop)
	if s == nil {
		return
	}
	cctx, cancel := context.WithDeadline(ctx, deadline)
	err := s.requestShutdown(cctx)
	cancel()
	drain := false
	switch {
	case errors.Is(err, errNoShutdownRequest):
		// The protocol cannot ask (msgpack): its own rule, within the bound.
		w.log.Info(fmt.Sprintf("(over this protocol the master cannot be told: the worker stops once no command has run for %v)", w.quiet()))
		go w.shutdownWhenQuiet(ctx, stop)
	case err != nil && ctx.Err() == nil:
		drain = true
		w.log.Warn("the master did not take the shutdown request: the worker exits once no command runs", "err", err)
	}
	tick := time.NewTicker(stopPoll)
	defer tick.Stop()
	for {
		if running, _ := w.bot.activity(); drain && running == 0 {
			w.log.Info("no command running: shutting down")
			stop(errShutdownNow)
			return
		}
		if !time.Now().Before(deadline) {
			w.log.Warn("still running " + bound.String() + " after being asked to stop: interrupting the running commands and shutting down")
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

// stopRequested reports whether a stop request came: the run loop must
// not connect again.
func (w *worker) stopRequested() bool { return w.stopping.Load() }
