package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// pidFileName is twistd's name for the file holding a running worker's
// process id, kept so that tools watching worker directories still work.
const pidFileName = "twistd.pid"

func pidFilePath(basedir string) string {
	return filepath.Join(basedir, pidFileName)
}

// pidFile is what a pid file says about the worker.
type pidFile struct {
	Path   string
	Exists bool
	PID    int // 0 if the file holds no process id
	// Live: PID is a running worker, not a leftover of one that died.
	Live bool
	// Stale says why an existing file is a leftover.
	Stale string
}

// inspectPidFile reads basedir's pid file and judges whether its process is
// a running worker. Only a file it cannot read at all is an error.
func inspectPidFile(basedir string) (pidFile, error) {
	p := pidFile{Path: pidFilePath(basedir)}
	data, err := os.ReadFile(p.Path)
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("reading the pid file: %w", err)
	}
	p.Exists = true
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	switch {
	case err != nil || pid <= 0:
		p.Stale = "it holds no process id"
	case pid == os.Getpid():
		// A container restarted with the same pid (often 1) finds
		// its own pid in the file it left behind.
		p.PID, p.Stale = pid, "it names this very process"
	case !processAlive(pid):
		p.PID, p.Stale = pid, fmt.Sprintf("process %d is not running", pid)
	case !isWorkerProcess(pid):
		p.PID, p.Stale = pid, fmt.Sprintf("process %d is not a buildslave", pid)
	default:
		p.PID, p.Live = pid, true
	}
	return p, nil
}

// isWorkerProcess guesses whether pid runs this program, to tell a worker
// from an unrelated process that was given a dead worker's pid. It
// compares program names, not paths, so that a worker started from another
// copy of the binary still counts. When it cannot tell, it says yes: that
// errs towards refusing to start a second worker.
func isWorkerProcess(pid int) bool {
	theirs, err := processExecutable(pid)
	if err != nil {
		return true
	}
	ours, err := os.Executable()
	if err != nil {
		return true
	}
	a, b := filepath.Base(theirs), filepath.Base(ours)
	if runtime.GOOS == "windows" {
		return strings.EqualFold(a, b)
	}
	return a == b
}

// errWorkerRunning says another worker already runs in the directory.
var errWorkerRunning = errors.New("a worker is already running")

// createPidFile writes this process's id to basedir's pid file, as twistd
// does (decimal, no newline), after making sure no other worker runs there.
// The file is created exclusively, so that of two workers started at the
// same moment only one wins. release removes the file if it is still ours.
func createPidFile(basedir string) (release func(), err error) {
	path := pidFilePath(basedir)
	pid := strconv.Itoa(os.Getpid())
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, werr := f.WriteString(pid)
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				os.Remove(path)
				return nil, fmt.Errorf("writing the pid file: %w", werr)
			}
			return func() { removeOwnPidFile(path, pid) }, nil
		}
		if !errors.Is(err, os.ErrExist) || attempt > 0 {
			return nil, fmt.Errorf("creating the pid file: %w", err)
		}
		p, err := inspectPidFile(basedir)
		if err != nil {
			return nil, err
		}
		if p.Live {
			return nil, fmt.Errorf("%w in %s: process %d (see %s)", errWorkerRunning, basedir, p.PID, path)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("removing the stale pid file: %w", err)
		}
	}
}

// removeOwnPidFile removes path unless another worker has written its own
// pid there meanwhile.
func removeOwnPidFile(path, pid string) {
	data, err := os.ReadFile(path)
	if err == nil && string(data) == pid {
		os.Remove(path)
	}
}

// removeStalePidFile deletes a leftover pid file, saying so as twistd
// does.
func removeStalePidFile(p pidFile, out printer) error {
	out("Removing stale pidfile %s (%s)", p.Path, p.Stale)
	if err := os.Remove(p.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing the stale pid file: %w", err)
	}
	return nil
}
