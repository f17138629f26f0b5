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
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/windows"
)

// shellArgv returns the argv that runs a command string, and the command
// line to hand to CreateProcess as is: cmd.exe parses its command line its
// own way, which Go's argument quoting would disturb.
func shellArgv(command string) (argv []string, cmdLine string) {
	argv = comspecArgv(os.Getenv("COMSPEC"))
	found := false
	for _, a := range argv[1:] {
		if strings.EqualFold(a, "/c") {
			found = true
		}
	}
	if !found {
		argv = append(argv, "/c")
	}
	cmdLine = quoteProgram(argv[0])
	for _, a := range argv[1:] {
		cmdLine += " " + a
	}
	cmdLine += " " + command
	return append(argv, command), cmdLine
}

// comspecArgv splits %COMSPEC% into the shell and its arguments. As with
// the reference, it may carry arguments after the program; unlike the
// reference, a program path with spaces (C:\Program Files\...) stays one,
// whether it is quoted or names an existing file as a whole.
func comspecArgv(comspec string) []string {
	comspec = strings.TrimSpace(comspec)
	switch {
	case comspec == "":
		return []string{"cmd.exe"}
	case strings.HasPrefix(comspec, `"`):
		if end := strings.Index(comspec[1:], `"`); end >= 0 {
			return append([]string{comspec[1 : end+1]}, strings.Fields(comspec[end+2:])...)
		}
	}
	if fi, err := os.Stat(comspec); err == nil && !fi.IsDir() {
		return []string{comspec}
	}
	return strings.Fields(comspec)
}

// quoteProgram quotes a program path with spaces for a command line.
func quoteProgram(p string) string {
	if strings.ContainsAny(p, " \t") {
		return `"` + p + `"`
	}
	return p
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

// lookPath finds the executable for argv[0] as cmd.exe would in the
// command's environment: CreateProcess searches the worker's PATH, not the
// one the master sent, so the search is done here, through pathEnv (the
// command's PATH; the worker's if empty) with relative entries relative to
// dir, trying each PATHEXT extension unless the name has one of them. Unlike
// cmd.exe, the current directory is not searched first (nor is it by
// exec.LookPath): a checkout must not shadow the tools.
func lookPath(file, pathEnv, dir string) (string, error) {
	if filepath.IsAbs(file) {
		return file, nil
	}
	if strings.ContainsAny(file, `\/:`) {
		return filepath.Join(dir, file), nil
	}
	if pathEnv == "" {
		pathEnv = os.Getenv("PATH")
	}
	exts := pathExts()
	if slices.Contains(exts, strings.ToLower(filepath.Ext(file))) {
		exts = []string{""}
	}
	for _, d := range filepath.SplitList(pathEnv) {
		if d = strings.Trim(d, `"`); d == "" {
			continue
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		for _, ext := range exts {
			p := filepath.Join(d, file+ext)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				return p, nil
			}
		}
	}
	return "", &exec.Error{Name: file, Err: exec.ErrNotFound}
}

// pathExts are the extensions PATHEXT lists, or Windows' default ones.
func pathExts() []string {
	var exts []string
	for _, e := range strings.Split(strings.ToLower(os.Getenv("PATHEXT")), ";") {
		if e = strings.TrimSpace(e); strings.HasPrefix(e, ".") {
			exts = append(exts, e)
		}
	}
	if len(exts) == 0 {
		exts = []string{".com", ".exe", ".bat", ".cmd"}
	}
	return exts
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
