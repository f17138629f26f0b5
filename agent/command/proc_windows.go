//go:build windows

// Process handling differs by OS: Windows has no process groups and no
// /bin/sh. As the reference worker does, a string command runs under
// %COMSPEC% /c. Each command's process tree lives in a job object of its
// own (jobtree_windows.go), which a kill terminates. See proc_unix.go for
// POSIX systems.

package command

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/windows"
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

// setProcAttr starts the child suspended, so that it is in its job before
// it can start anything (adoptTree resumes it), and as the root of a new
// console process group, so that a CTRL_BREAK can reach its tree alone.
func setProcAttr(cmd *exec.Cmd, spec childSpec) {
	cmd.SysProcAttr = &syscall.SysProcAttr{
		CmdLine:       spec.cmdLine,
		CreationFlags: windows.CREATE_SUSPENDED | windows.CREATE_NEW_PROCESS_GROUP,
	}
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

// validSignal reports whether name can be sent here. KILL terminates the
// command's job; TERM and INT send CTRL_BREAK to its process group, or
// terminate the job where that cannot be done (see signalTree).
func validSignal(name string) bool {
	switch name {
	case "KILL", "TERM", "INT":
		return true
	}
	return false
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
