package agent

import (
	"errors"
	"log/slog"
	"time"
)

// State is a step in the worker's connection life.
type State int

// The states Run reports through Options.Status.
const (
	// StateConnecting: dialling the master (first time or after a loss).
	StateConnecting State = iota
	// StateConnected: logged in; the master has attached the worker.
	StateConnected
	// StateDisconnected: the connection was lost; Run will dial again.
	StateDisconnected
	// StateLoginRefused: the master refused the name or password.
	StateLoginRefused
	// StateStopped: Run is returning.
	StateStopped
)

func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateDisconnected:
		return "disconnected"
	case StateLoginRefused:
		return "login refused"
	case StateStopped:
		return "stopped"
	}
	return "unknown"
}

// Status is one report of a state change; Err says why, where there is a why.
type Status struct {
	State State
	Err   error
	// Master names the master dialled, connected to or lost (host:port,
	// "tls:host:port", "... via proxy ..."); empty in StateStopped
	// reports of a run that never got that far.
	Master string
}

// Options are the parts of a worker run that do not come from its config file.
type Options struct {
	// Logger receives the worker's log; nil means slog.Default().
	Logger *slog.Logger
	// Status, if set, is called on every state change, from the goroutine
	// that runs the connection loop; it must not block.
	Status func(Status)
	// Version is the worker version reported to the master.
	Version string
	// Observer, if set, is told of state changes, keepalives, commands,
	// transfers and output, for status files and metrics; see Observer.
	Observer Observer
	// Shutdown delivers requests for a graceful shutdown, each a reason
	// to log ("we got SIGHUP"): the worker asks the master to shut it
	// down once its running builds are done (Run then returns
	// ErrShutdown), or, not connected, returns ErrShutdown at once. To
	// stop at once instead, cancel Run's context. nil: no requests.
	Shutdown <-chan string
	// Stop delivers stop requests (SIGTERM, SIGINT), each a reason to log.
	// After the first the worker never reconnects: it asks the master for
	// a graceful shutdown and exits when the master lets it, as soon as no
	// command runs if the master refuses or the connection ends, and in
	// any case within StopBound (Run then returns ErrShutdown). nil: no
	// requests.
	Stop <-chan string
	// StartProcess, if set, runs every start of a build's process (its
	// argument forks on the calling thread), so that the process gets
	// what the worker was given rather than what the worker changed for
	// itself: its timer slack (package timerslack). nil: started as is.
	StartProcess func(start func() error) error

	// stopBound overrides StopBound, for tests.
	stopBound time.Duration
}

// Errors Run returns when it gives up for good.
var (
	// ErrDuplicateWorker: the master already has a live worker of this name.
	ErrDuplicateWorker = errors.New("the master already has a connected worker with this name")
	// ErrMaxRetries: maxretries connection attempts failed.
	ErrMaxRetries = errors.New("gave up after maxretries failed connection attempts")
	// ErrShutdown: the worker stopped because the master or a graceful
	// shutdown request told it to.
	ErrShutdown = errors.New("worker shut down")
)
