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

	cfg, err := loadWorkerConfig(basedir)
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
	defer closeLog()

	release, err := createPidFile(cfg.Basedir)
	if err != nil {
		logger.Error("not starting", "err", err)
		return err
	}
	defer release()
	logger.Info("buildslave starting", "version", a.version, "pid", os.Getpid(), "config", cfg)
	recordHostname(cfg.Basedir, logger)
	var report func(agent.Status)
	if status != nil {
		status.send(statusEvent{kind: eventStarted, pid: os.Getpid()})
		report = status.report
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = a.runWorker(ctx, cfg, agent.Options{Logger: logger, Status: report, Version: a.version})
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
