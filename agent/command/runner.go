package command

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"
)

// InterruptReporter is implemented by commands that can be interrupted.
// Interrupted reports whether an interrupt actually stopped the command;
// Run then sends no "elapsed" update, as the reference worker does. A
// command without the method is never considered interrupted.
//
// The runner asks instead of intercepting Interrupt because the agent
// calls Interrupt on the command directly, and only the command knows
// whether the interrupt arrived while there was still something to stop.
type InterruptReporter interface {
	Interrupted() bool
}

// Run runs cmd to its end and reports to sink as the reference worker's
// generic command wrapper does (COMMANDS.md §1.3): the command's updates,
// then "elapsed" (seconds since the start, unless it was interrupted), then
// the partial lines kept back, then Complete with the command's error (nil
// for a normal end). A panic in the command is reported as its error: the
// worker keeps running. Problems talking to the sink are logged.
func Run(ctx context.Context, cmd Command, sink Sink, logger *slog.Logger) {
	RunOutput(ctx, cmd, NewOutput(ctx, sink), sink, logger)
}

// RunOutput is Run with the Output the caller made for sink, so that it
// can flush it from outside (msgpack flushes a command's output before
// interrupting it) or give it the master's settings.
func RunOutput(ctx context.Context, cmd Command, out *Output, sink Sink, logger *slog.Logger) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	err := runGuarded(ctx, cmd, out, logger)
	if r, ok := cmd.(InterruptReporter); !ok || !callInterrupted(r, logger) {
		out.Add("elapsed", time.Since(start).Seconds())
	}
	if ferr := out.Finish(ctx); ferr != nil {
		logger.Warn("sending command output failed", "err", ferr)
	}
	if err != nil {
		logger.Info("command failed", "err", err)
	}
	completeGuarded(ctx, sink, err, logger)
}

// runGuarded calls cmd.Run, turning a panic into an error.
func runGuarded(ctx context.Context, cmd Command, out *Output, logger *slog.Logger) (err error) {
	defer func() {
		if r := recover(); r != nil {
			logger.Error("command panicked", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("command panicked: %v", r)
		}
	}()
	return cmd.Run(ctx, out)
}

func callInterrupted(r InterruptReporter, logger *slog.Logger) (interrupted bool) {
	defer func() {
		if p := recover(); p != nil {
			logger.Error("Interrupted panicked", "panic", p, "stack", string(debug.Stack()))
			interrupted = false
		}
	}()
	return r.Interrupted()
}

// completeGuarded reports the end to the sink; a sink that panics must not
// take the worker down either.
func completeGuarded(ctx context.Context, sink Sink, failure error, logger *slog.Logger) {
	defer func() {
		if r := recover(); r != nil {
			logger.Error("completing the command panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	if err := sink.Complete(ctx, failure); err != nil {
		logger.Warn("reporting the command's end failed", "err", err)
	}
}
