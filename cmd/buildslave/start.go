package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/buildslave/buildslave/config"
)

// defaultStartTimeout is how long start waits for the background worker
// to log in. buildbot-worker waits 10 s; a master that is busy, or far
// away behind a slow link, often needs more.
const defaultStartTimeout = 60 * time.Second

// startOptions are the options of start and restart.
type startOptions struct {
	nodaemon bool
	quiet    bool
	timeout  time.Duration
	// daemonChild marks the background worker that start launched: it
	// reports to start over a pipe (fd 3) instead of a terminal.
	daemonChild bool
}

func newStartCommand(a *app) *cobra.Command {
	var opts startOptions
	cmd := &cobra.Command{
		Use:   "start [flags] [BASEDIR]",
		Short: "Start a worker",
		Long: `Start the worker of BASEDIR (default: the current directory).

Without --nodaemon the worker runs in the background and start waits until
it has logged in to the master, printing what happens. Its log is
BASEDIR/twistd.log, its process id in BASEDIR/twistd.pid.

The environment variables BUILDMASTER, BUILDMASTER_PORT, WORKERNAME,
WORKERPASS and BUILDMASTER_PROTOCOL, when set and not empty, override the
configuration file (as in Buildbot's docker worker image); WORKERPASS is
hidden from build commands.

Signals: SIGTERM or SIGINT asks for a graceful shutdown (the master lets a
running build finish; a worker that is not connected stops at once), a
second one stops at once, interrupting running commands. SIGHUP does the
same as the first SIGTERM with allow_shutdown = "signal", and is ignored
(logged) otherwise.

Exit status: 0 after a stop or a shutdown, 3 when the worker gave up after
maxretries failed connection attempts, 1 for any other failure.`,
		Args: atMostOneBasedir,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.start(cmd, basedirArg(args), opts)
		},
	}
	addStartFlags(cmd, &opts)
	cmd.Flags().BoolVar(&opts.daemonChild, "daemon-child", false, "run as the background worker of start")
	cmd.Flags().MarkHidden("daemon-child")
	return cmd
}

// addStartFlags declares the options start and restart share.
func addStartFlags(cmd *cobra.Command, opts *startOptions) {
	f := cmd.Flags()
	f.BoolVar(&opts.nodaemon, "nodaemon", false, "run in the foreground, logging to stderr too")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "print nothing but errors, and do not wait for the worker to log in")
	f.DurationVar(&opts.timeout, "timeout", defaultStartTimeout, "how long to wait for the worker to log in (0: do not wait)")
}

// start runs the worker in the foreground or launches it in the
// background, as asked and as the system allows.
func (a *app) start(cmd *cobra.Command, basedir string, opts startOptions) error {
	out := progress(cmd.OutOrStdout(), opts.quiet)
	if opts.daemonChild {
		opts.nodaemon = true
	} else if err := refreshFromAllocator(cmd.Context(), out, basedir); err != nil {
		return err
	}
	if !opts.nodaemon && !canDaemonize {
		out("This system has no background workers: running in the foreground (stop it with Ctrl-C).")
		opts.nodaemon = true
	}
	if opts.nodaemon {
		return a.runForeground(cmd.Context(), cmd.ErrOrStderr(), basedir, opts)
	}
	return a.startDaemon(cmd.Context(), out, basedir, opts)
}

// progress returns a printer of progress lines, silent when quiet.
func progress(w io.Writer, quiet bool) printer {
	if quiet {
		w = io.Discard
	}
	return func(format string, args ...any) {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

// loadWorkerConfig loads basedir's configuration, explaining what is wrong
// with a directory that has none, and applies the environment's overrides
// (config.ApplyEnv); envApplied names the variables that took effect.
func loadWorkerConfig(basedir string) (cfg *config.Config, envApplied []string, err error) {
	if err := checkWorkerDir(basedir); err != nil {
		return nil, nil, err
	}
	cfg, err = config.Load(basedir)
	if err != nil {
		return nil, nil, err
	}
	envApplied, err = cfg.ApplyEnv(os.LookupEnv)
	if err != nil {
		return nil, nil, err
	}
	return cfg, envApplied, nil
}

// checkWorkerDir tells a worker directory from others, as buildbot-worker
// does before it starts, stops or restarts anything.
func checkWorkerDir(basedir string) error {
	_, err := os.Stat(filepath.Join(basedir, config.FileName))
	if err == nil {
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("invalid worker directory %q: %w", basedir, err)
	}
	hint := "create one with 'buildslave create-slave'"
	if _, err := os.Stat(filepath.Join(basedir, "buildbot.tac")); err == nil {
		hint = "it has the buildbot.tac of buildbot-worker or buildslave 0.8: " +
			"convert it with 'buildslave upgrade-slave " + basedir + "'"
	}
	return fmt.Errorf("invalid worker directory %q: it has no %s (%s)", basedir, config.FileName, hint)
}
