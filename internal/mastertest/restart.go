package mastertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
)

// StopProcess stops the master (SIGTERM, then SIGKILL after
// DefaultStopTimeout) but keeps its directory and ports, so that
// StartAgain can bring it back where its workers expect it: a master
// restart as workers see it. Builds and workers known to the master are
// lost with its in-memory database.
func (m *Master) StopProcess() error {
	if err := m.proc.Stop(DefaultStopTimeout); err != nil {
		return fmt.Errorf("mastertest: stop master: %w", err)
	}
	return nil
}

// StartAgain starts a master stopped by StopProcess again, with the same
// configuration and ports, and waits until it is ready. It must not run
// concurrently with other methods of m.
func (m *Master) StartAgain(ctx context.Context) error {
	if !m.proc.Exited() {
		return fmt.Errorf("mastertest: start again: the master (pid %d) is still running", m.proc.Pid())
	}
	old := m.proc.cmd
	cmd := exec.Command(old.Path, old.Args[1:]...)
	cmd.Dir, cmd.Env = old.Dir, old.Env
	var logStart int64
	if fi, err := os.Stat(m.logPath()); err == nil {
		logStart = fi.Size()
	}
	p, err := startProcess("buildbot master", cmd)
	if err != nil {
		return fmt.Errorf("mastertest: start again: %w", err)
	}
	m.proc = p
	if err := m.waitReady(ctx, logStart); err != nil {
		stopErr := p.Stop(DefaultStopTimeout)
		return fmt.Errorf("mastertest: start again: %w%s\n--- twistd.log (tail) ---\n%s",
			err, errSuffix(stopErr), m.LogTail(logTailLines))
	}
	return nil
}
