//go:build unix

// Process handling differs by OS: on POSIX systems each command runs as the
// leader of its own process group, so that a kill signal sent to the group
// reaches everything the command started, and a string command is run by
// /bin/sh. Windows has neither; see proc_windows.go.

package command

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// defaultPath is where execvp looks when the environment has no PATH.
const defaultPath = "/bin:/usr/bin"

// shellArgv returns the argv that runs a command string.
func shellArgv(command string) (argv []string, cmdLine string) {
	return []string{"/bin/sh", "-c", command}, ""
}

// setProcAttr makes the child the leader of a new process group.
func setProcAttr(cmd *exec.Cmd, _ childSpec) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// lookPath finds the executable for argv[0] as execvp does in the child:
// through the PATH of the child's environment, with relative entries
// relative to the child's working directory dir.
func lookPath(file, pathEnv, dir string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	if pathEnv == "" {
		pathEnv = defaultPath
	}
	for _, d := range filepath.SplitList(pathEnv) {
		if d == "" {
			d = "."
		}
		p := filepath.Join(d, file)
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", &exec.Error{Name: file, Err: exec.ErrNotFound}
}

// signals are the names interruptSignal may use.
var signals = map[string]syscall.Signal{
	"ABRT": syscall.SIGABRT,
	"ALRM": syscall.SIGALRM,
	"HUP":  syscall.SIGHUP,
	"INT":  syscall.SIGINT,
	"KILL": syscall.SIGKILL,
	"QUIT": syscall.SIGQUIT,
	"TERM": syscall.SIGTERM,
	"USR1": syscall.SIGUSR1,
	"USR2": syscall.SIGUSR2,
}

// validSignal reports whether name can be sent here.
func validSignal(name string) bool {
	_, ok := signals[name]
	return ok
}

// signalTree sends the named signal to the child's process group, or to
// the child alone if that fails. ESRCH (nobody left) is not an error. The
// group outlives its leader as long as any member does, so this also
// reaches what a finished leader left behind.
//
// As with the reference, the group is the tree: a descendant that left it
// (setsid, setpgid — daemons do) is not killed; finding it would mean
// walking every process's ancestry, racing with forks. Unlike the
// reference, which forgets the group once a SIGTERM reached it and sends
// the final signal to the leader alone, every signal of the kill
// procedure goes to the group, so that members ignoring SIGTERM die too.
func signalTree(c *child, name string) error {
	sig, ok := signals[name]
	if !ok {
		return fmt.Errorf("unknown signal %q", name)
	}
	pid := c.cmd.Process.Pid
	err := syscall.Kill(-pid, sig)
	if err == nil || errors.Is(err, syscall.ESRCH) {
		return nil
	}
	if perr := c.cmd.Process.Signal(sig); perr != nil && !errors.Is(perr, os.ErrProcessDone) {
		return fmt.Errorf("signalling process group %d: %w; the process: %w", pid, err, perr)
	}
	return nil
}

// exitStatus turns a wait status into the rc the master gets and, if a
// signal ended the process, its number. A process we killed that still
// claims success gets -1, as with the reference.
func exitStatus(state *os.ProcessState, killed bool) (rc, signal int, signaled bool) {
	if state == nil {
		return -1, 0, false
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, int(ws.Signal()), true
	}
	rc = state.ExitCode()
	if killed && rc == 0 {
		rc = -1
	}
	return rc, 0, false
}
