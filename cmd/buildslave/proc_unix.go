//go:build unix

// Daemons, signals and umasks are Unix notions; proc_windows.go has the
// Windows stand-ins under the same names.

package main

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// canDaemonize: start may run the worker in the background.
const canDaemonize = true

// daemonAttrs puts the background worker in a session of its own, so that
// it has no controlling terminal and closing the terminal that started it
// does not hang it up.
func daemonAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true}
}

// processAlive reports whether pid exists. EPERM means it does, but belongs
// to someone else.
func processAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// terminateProcess asks pid to stop: the worker shuts down cleanly on
// SIGTERM.
func terminateProcess(pid int) error {
	return unix.Kill(pid, unix.SIGTERM)
}

// killProcess stops pid for good.
func killProcess(pid int) error {
	return unix.Kill(pid, unix.SIGKILL)
}

// setUmask sets the process's umask, as the umask setting asks.
func setUmask(u int) {
	unix.Umask(u)
}

// closeOnExec keeps fd, the status pipe, out of the build commands the
// worker starts: a build that outlived the worker would otherwise hold it
// open.
func closeOnExec(fd uintptr) {
	unix.CloseOnExec(int(fd))
}
