//go:build windows

// Process handling differs by OS: Windows has no process groups and no
// /bin/sh. As the reference worker does, a string command runs under
// %COMSPEC% /c and a kill uses TASKKILL /T on the process tree. See
// proc_unix.go for POSIX systems.

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

// shellArgv returns the argv that runs a command string, and the command
// line to hand to CreateProcess as is: cmd.exe parses its command line its
// own way, which Go's argument quoting would disturb.
func shellArgv(command string) (argv []string, cmdLine string) {
	comspec := os.Getenv("COMSPEC")
	if comspec == "" {
		comspec = "cmd.exe"
	}
	argv = strings.Fields(comspec) // %COMSPEC% may carry arguments
	found := false
	for _, a := range argv {
		if strings.EqualFold(a, "/c") {
			found = true
		}
	}
	if !found {
		argv = append(argv, "/c")
	}
	cmdLine = strings.Join(argv, " ") + " " + command
	return append(argv, command), cmdLine
}

func setProcAttr(cmd *exec.Cmd, spec childSpec) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CmdLine: spec.cmdLine}
}

// lookPath finds the executable for argv[0]. Windows' own search rules
// (PATHEXT, the current directory) are exec.LookPath's; it searches the
// worker's PATH, not the command's.
func lookPath(file, _, dir string) (string, error) {
	if filepath.IsAbs(file) {
		return file, nil
	}
	if strings.ContainsAny(file, `\/`) {
		return filepath.Join(dir, file), nil
	}
	return exec.LookPath(file)
}

// validSignal reports whether name can be sent here: only KILL and TERM
// mean something to TASKKILL; any other kills the process alone.
func validSignal(name string) bool {
	switch name {
	case "KILL", "TERM", "INT":
		return true
	}
	return false
}

// signalTree ends the child's process tree with TASKKILL (/F for KILL),
// falling back to killing the child alone.
func signalTree(c *child, name string) error {
	pid := c.cmd.Process.Pid
	var args []string
	switch name {
	case "KILL":
		args = []string{"/F", "/PID", fmt.Sprint(pid), "/T"}
	case "TERM":
		args = []string{"/PID", fmt.Sprint(pid), "/T"}
	}
	if args != nil {
		if err := exec.Command("taskkill", args...).Run(); err == nil {
			return nil
		}
	}
	if err := c.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("killing process %d: %w", pid, err)
	}
	return nil
}

// exitStatus turns the exit into the rc the master gets. Windows has no
// signals; a process we killed that still claims success gets 1, as with
// the reference.
func exitStatus(state *os.ProcessState, killed bool) (rc, signal int, signaled bool) {
	if state == nil {
		return -1, 0, false
	}
	rc = state.ExitCode()
	if killed && rc == 0 {
		rc = 1
	}
	return rc, 0, false
}
