package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/buildslave/buildslave/agent"
	"github.com/buildslave/buildslave/config"
)

// exitGrace bounds the waits for a background worker that is on its way
// out: it has closed its status pipe, or it was told to stop.
const exitGrace = 10 * time.Second

// startDaemon launches the worker in the background and follows it until
// it has logged in, failed, or taken too long.
func (a *app) startDaemon(ctx context.Context, out printer, basedir string, opts startOptions) error {
	cfg, _, err := loadWorkerConfig(basedir)
	if err != nil {
		return err
	}
	p, err := inspectPidFile(cfg.Basedir)
	if err != nil {
		return err
	}
	if p.Live {
		return fmt.Errorf("%w in %s: process %d; stop it first with 'buildslave stop %s'",
			errWorkerRunning, cfg.Basedir, p.PID, basedir)
	}
	if p.Exists {
		if err := removeStalePidFile(p, out); err != nil {
			return err
		}
	}
	d, err := launchDaemon(cfg.Basedir)
	if err != nil {
		return err
	}
	defer d.close()
	return d.follow(ctx, out, cfg, basedir, opts)
}

// printer prints one progress line.
type printer = func(format string, args ...any)

// daemon is a background worker as seen by the start command.
type daemon struct {
	pid    int
	events chan statusEvent
	exited chan error // cmd.Wait's result, once
	stop   chan struct{}
	pipe   *os.File
}

// launchDaemon runs this program again as the background worker: in a
// session of its own, with /dev/null for its standard files and the write
// end of a pipe as fd 3, over which it reports how it is doing.
// Re-executing is the Go way to daemonize: a Go program cannot fork.
func launchDaemon(basedir string) (*daemon, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this program to run it in the background: %w", err)
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("launching the worker: %w", err)
	}
	defer null.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("launching the worker: %w", err)
	}
	// Our copy of the write end must go, or the read end never sees the
	// worker exit.
	defer pw.Close()

	cmd := exec.Command(exe, "start", "--nodaemon", "--daemon-child", "--", basedir)
	cmd.Dir = basedir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	cmd.ExtraFiles = []*os.File{pw} // statusFD
	cmd.SysProcAttr = daemonAttrs()
	if err := cmd.Start(); err != nil {
		pr.Close()
		return nil, fmt.Errorf("launching the worker: %w", err)
	}
	d := &daemon{
		pid:    cmd.Process.Pid,
		events: make(chan statusEvent),
		exited: make(chan error, 1),
		stop:   make(chan struct{}),
		pipe:   pr,
	}
	// Waiting reaps the worker should it exit while start still runs;
	// once start has exited, init does.
	go func() { d.exited <- cmd.Wait() }()
	go readStatusEvents(pr, d.events, d.stop)
	return d, nil
}

// close stops listening to the worker; the worker itself runs on.
func (d *daemon) close() {
	close(d.stop)
	d.pipe.Close()
}

// follow prints what the background worker reports until the outcome of
// the start is known.
func (d *daemon) follow(ctx context.Context, out printer, cfg *config.Config, basedir string, opts startOptions) error {
	logPath := filepath.Join(cfg.Basedir, logFileName)
	master := cfg.MasterAddr()
	if cfg.ConnectionString != "" {
		master = cfg.ConnectionString
	}
	var timeout <-chan time.Time
	if opts.timeout > 0 {
		t := time.NewTimer(opts.timeout)
		defer t.Stop()
		timeout = t.C
	}
	var fatal string
	connecting := false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()

		case <-timeout:
			return fmt.Errorf("the worker did not log in to the master at %s within %v. "+
				"It keeps running in the background (process %d) and keeps trying: "+
				"see %s, and stop it with 'buildslave stop %s' if need be",
				master, opts.timeout, d.pid, logPath, basedir)

		case e, ok := <-d.events:
			if !ok {
				return d.exitError(fatal, logPath)
			}
			switch e.kind {
			case eventStarted:
				out("worker process %d started; it logs to %s", e.pid, logPath)
				if opts.quiet || opts.timeout <= 0 {
					return nil
				}
			case eventFatal:
				fatal = e.msg
			case eventState:
				switch e.state {
				case agent.StateConnecting:
					if !connecting {
						out("connecting to the master at %s", master)
						connecting = true
					}
				case agent.StateDisconnected:
					out("connection failed: %s; retrying", e.msg)
				case agent.StateConnected:
					out("connected to the master")
					out("The buildslave appears to have (re)started correctly.")
					return nil
				case agent.StateLoginRefused:
					return loginRefused(cfg, master, basedir, d.pid)
				case agent.StateStopped:
					if e.msg != "" {
						fatal = e.msg
					}
				}
			}
		}
	}
}

// exitError explains a worker that closed its status pipe: it has exited.
func (d *daemon) exitError(fatal, logPath string) error {
	status := "still running"
	var cause error
	select {
	case err := <-d.exited:
		status = "exit status 0"
		if err != nil {
			status = err.Error()
		}
		// start exits as its worker did when it gave up for good.
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == exitMaxRetries {
			cause = agent.ErrMaxRetries
		}
	case <-time.After(exitGrace):
	}
	if fatal == "" {
		fatal = "it stopped before logging in to the master; see " + logPath
	}
	if cause != nil {
		return fmt.Errorf("the worker stopped (%s): %s: %w", status, fatal, cause)
	}
	return fmt.Errorf("the worker stopped (%s): %s", status, fatal)
}

// loginRefused is start's answer to a refused login. The worker is left
// running: like the reference, it retries with its backoff, since the
// master's administrator may be adding it right now or a master being
// reconfigured refuses briefly, and a boot-time restart must not leave it
// dead for good. start still fails, so that whoever ran it looks.
func loginRefused(cfg *config.Config, master, basedir string, pid int) error {
	until := "until the master accepts it"
	if cfg.MaxRetries > 0 {
		until = fmt.Sprintf("until the master accepts it or %d attempts have failed (maxretries)", cfg.MaxRetries)
	}
	return fmt.Errorf("%w: the master at %s refused the login of worker %q; "+
		"check workername and passwd in %s. The worker keeps running in the background "+
		"(process %d) and retries %s; stop it with 'buildslave stop %s'",
		errLoginRefused, master, cfg.Name, filepath.Join(cfg.Basedir, config.FileName), pid, until, basedir)
}

// errLoginRefused marks start's failure on a refused login.
var errLoginRefused = errors.New("login refused")
