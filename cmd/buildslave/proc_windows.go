// Windows has no fork-style daemons, no signals to ask a process to stop
// and no umask: these are proc_unix.go's functions as far as they go there.

package main

import (
	"errors"
	"syscall"

	"golang.org/x/sys/windows"
)

// canDaemonize: start runs the worker in the foreground on Windows, where
// a background worker is better run as a service.
const canDaemonize = false

func daemonAttrs() *syscall.SysProcAttr { return nil }

// stillActive is the exit code GetExitCodeProcess reports for a process
// that has not exited (STILL_ACTIVE).
const stillActive = 259

func processAlive(pid int) bool {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		// Access denied means it exists.
		return errors.Is(err, windows.ERROR_ACCESS_DENIED)
	}
	defer windows.CloseHandle(h)
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil {
		return false
	}
	return code == stillActive
}

// terminateProcess cannot ask politely: Windows has no SIGTERM to send to
// a console process of another console. The worker dies at once.
func terminateProcess(pid int) error {
	return killProcess(pid)
}

func killProcess(pid int) error {
	h, err := windows.OpenProcess(windows.PROCESS_TERMINATE, false, uint32(pid))
	if err != nil {
		return err
	}
	defer windows.CloseHandle(h)
	return windows.TerminateProcess(h, 1)
}

// setUmask does nothing: Windows has no umask.
func setUmask(int) {}

// closeOnExec does nothing: Windows handles are not inherited unless asked.
func closeOnExec(uintptr) {}
