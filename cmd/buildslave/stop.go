package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// How stop waits for the worker: it polls, and after stopGrace it kills.
const (
	stopGrace = 10 * time.Second
	stopPoll  = 100 * time.Millisecond
)

// errNotRunning: no worker runs in the directory.
var errNotRunning = errors.New("worker not running")

func newStopCommand(a *app) *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:   "stop [flags] [BASEDIR]",
		Short: "Stop a worker",
		Long: fmt.Sprintf(`Stop the worker of BASEDIR (default: the current directory): ask it to stop
gracefully (SIGTERM: the master lets a running build finish), interrupt it
(SIGTERM again) if it still runs %[1]v later, and kill it %[1]v after that.`, stopGrace),
		Args: atMostOneBasedir,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := progress(cmd.OutOrStdout(), quiet)
			err := stopWorker(out, basedirArg(args), stopGrace)
			if errors.Is(err, errNotRunning) {
				out("worker not running")
				return nil
			}
			return err
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing but errors")
	return cmd
}

// stopWorker stops basedir's worker and waits until its process is gone,
// killing it after grace. It returns errNotRunning when there was nothing
// to stop, a stale pid file included, which it removes.
func stopWorker(out printer, basedir string, grace time.Duration) error {
	if err := checkWorkerDir(basedir); err != nil {
		return err
	}
	p, err := inspectPidFile(basedir)
	if err != nil {
		return err
	}
	if !p.Exists {
		return errNotRunning
	}
	if !p.Live {
		if err := removeStalePidFile(p, out); err != nil {
			return err
		}
		return errNotRunning
	}
	// The first SIGTERM asks for a graceful shutdown: the master lets a
	// running build finish. The second stops the worker now.
	if err := terminateProcess(p.PID); err != nil {
		return fmt.Errorf("stopping worker process %d: %w", p.PID, err)
	}
	if waitForExit(p.PID, grace) {
		out("worker process %d is dead", p.PID)
		return nil
	}
	out("worker process %d did not stop within %v (a build is running?): interrupting it", p.PID, grace)
	if err := terminateProcess(p.PID); err != nil && processAlive(p.PID) {
		return fmt.Errorf("stopping worker process %d: %w", p.PID, err)
	}
	if waitForExit(p.PID, grace) {
		out("worker process %d is dead", p.PID)
		return nil
	}
	out("worker process %d did not stop within %v: killing it", p.PID, grace)
	if err := killProcess(p.PID); err != nil {
		return fmt.Errorf("killing worker process %d: %w", p.PID, err)
	}
	if !waitForExit(p.PID, grace) {
		return fmt.Errorf("never saw worker process %d go away", p.PID)
	}
	// Killed, it could not remove its pid file itself.
	p.Stale = "the process was killed"
	if err := removeStalePidFile(p, out); err != nil {
		return err
	}
	out("worker process %d is dead", p.PID)
	return nil
}

// waitForExit polls until pid is gone or d has passed.
func waitForExit(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(stopPoll)
	}
	return true
}
