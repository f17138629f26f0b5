package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/buildslave/buildslave/agent"
	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/internal/timerslack"
)

// statusFD is the status pipe's descriptor in the background worker: the
// first of exec.Cmd's ExtraFiles.
const statusFD = 3

// daemonUmask is the umask twistd gives a daemon whose configuration sets
// none: files builds create are private to the worker's user.
const daemonUmask = 0o077

// runForeground runs the worker in this process until a signal, the master
// or an error stops it. It serves both start --nodaemon and the background
// worker start launches; the latter reports to start through the status
// pipe, the former logs to stderr as well.
func (a *app) runForeground(ctx context.Context, stderr io.Writer, basedir string, opts startOptions) (err error) {
	// First: it may start the program over, and the status pipe must
	// still be open across that.
	var relaxed *timerslack.Relaxed
	relaxErr := errors.ErrUnsupported
	if a.relaxTimers != nil {
		relaxed, relaxErr = a.relaxTimers()
	}

	var status *statusWriter
	if opts.daemonChild {
		closeOnExec(statusFD)
		status = newStatusWriter(os.NewFile(statusFD, "status"))
		defer func() {
			if err != nil {
				status.send(statusEvent{kind: eventFatal, msg: err.Error()})
			}
			status.close()
		}()
	}

	cfg, envApplied, err := loadWorkerConfig(basedir)
	if err != nil {
		return err
	}
	// Relative paths in builds and core dumps land in the worker's
	// directory, as with twistd.
	if err := os.Chdir(cfg.Basedir); err != nil {
		return fmt.Errorf("entering the base directory: %w", err)
	}
	switch {
	case cfg.Umask != nil:
		setUmask(*cfg.Umask)
	case opts.daemonChild:
		setUmask(daemonUmask)
	}

	var console io.Writer
	if !opts.daemonChild && !opts.quiet {
		console = stderr
	}
	logger, closeLog, err := openLog(cfg, console)
	if err != nil {
		return err
	}
	defer func() { _ = closeLog() }()

	release, err := createPidFile(cfg.Basedir)
	if err != nil {
		logger.Error("not starting", "err", err)
		return err
	}
	defer release()
	logger.Info("buildslave starting", "version", a.version, "pid", os.Getpid(), "config", cfg)
	// On Windows, build processes would otherwise outlive a worker that
	// is stopped or crashes; elsewhere this does nothing.
	if err := joinKillOnCloseJob(); err != nil {
		logger.Warn("build processes may outlive the worker", "err", err)
	}
	if relaxErr != nil && !errors.Is(relaxErr, errors.ErrUnsupported) {
		logger.Info("the worker keeps the timer slack it was given", "err", relaxErr)
	}
	if len(envApplied) > 0 {
		logger.Info("settings overridden from the environment", "variables", envApplied)
	}
	recordHostname(cfg.Basedir, logger)
	observer, stopObservers, err := startObservers(cfg, a.version, logger)
	if err != nil {
		logger.Error("not starting", "err", err)
		return err
	}
	defer stopObservers()
	var report func(agent.Status)
	if status != nil {
		status.send(statusEvent{kind: eventStarted, pid: os.Getpid()})
		report = status.report
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	shutdown, stopReq := make(chan string, 1), make(chan string, 1)
	stopSignals := handleSignals(cfg.AllowShutdown, logger, shutdown, stopReq, cancel)
	defer stopSignals()
	err = a.runWorker(ctx, cfg, agent.Options{Logger: logger, Status: report, Version: a.version, Shutdown: shutdown, Stop: stopReq, Observer: observer,
		StartProcess: relaxed.Start})
	switch {
	case err == nil:
		logger.Info("buildslave stopped")
	case errors.Is(err, agent.ErrShutdown):
		logger.Info("buildslave stopped", "reason", err)
		err = nil
	default:
		logger.Error("buildslave stopped", "err", err)
	}
	return err
}

// handleSignals turns signals into the worker's ways of stopping until
// the returned function is called:
//
//   - SIGTERM or SIGINT (stop, service managers, Ctrl-C): the first is a
//     stop request (agent.Options.Stop: a graceful shutdown that never
//     reconnects and ends within agent.StopBound), the next one stops
//     now, interrupting running commands.
//   - SIGHUP with allow_shutdown = "signal": a graceful shutdown, as in the
//     reference. Without it SIGHUP is logged and ignored, where the
//     reference dies silently: a worker that vanishes on a stray hang-up,
//     leaving its pid file behind, is the kind of failure nobody notices.
//
// Windows delivers only os.Interrupt of these.
func handleSignals(allowShutdown string, logger *slog.Logger, shutdown, stopReq chan<- string, stopNow func()) (stop func()) {
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		asked := false
		for {
			var sig os.Signal
			select {
			case <-done:
				return
			case sig = <-signals:
			}
			name := signalName(sig)
			switch {
			case sig == syscall.SIGHUP && allowShutdown != config.ShutdownSignal:
				logger.Warn("ignoring SIGHUP: allow_shutdown is not \"signal\"; stop the worker with 'buildslave stop'")
			case sig == syscall.SIGHUP:
				requestShutdown(shutdown, "we got SIGHUP")
			case !asked:
				asked = true
				logger.Info("got " + name + ": shutting down once the running build is done (send it again to stop now)")
				requestShutdown(stopReq, "we got "+name)
			default:
				logger.Info("got " + name + " again: stopping now, interrupting running commands")
				stopNow()
			}
		}
	}()
	return func() {
		signal.Stop(signals)
		close(done)
	}
}

// requestShutdown passes a request on without blocking: one pending
// request is as good as several.
func requestShutdown(shutdown chan<- string, reason string) {
	select {
	case shutdown <- reason:
	default:
	}
}

func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return sig.String()
}

// exitMaxRetries is the exit status of a worker that gave up after
// maxretries failed connection attempts, so that whoever launched it (a
// latent worker's supervisor) can tell it from other failures.
const exitMaxRetries = 3

// exitStatus is the process's exit status for the error a command
// returned.
func exitStatus(err error) int {
	if errors.Is(err, agent.ErrMaxRetries) {
		return exitMaxRetries
	}
	return 1
}

// recordHostname writes twistd.hostname as buildbot-worker does, for the
// people who look at the directory; nothing reads it.
func recordHostname(basedir string, logger *slog.Logger) {
	name, err := os.Hostname()
	if err == nil {
		logger.Info("recording hostname in twistd.hostname")
		err = os.WriteFile(filepath.Join(basedir, "twistd.hostname"), []byte(name+"\n"), 0o644)
	}
	if err != nil {
		logger.Warn("cannot record the hostname", "err", err)
	}
}
