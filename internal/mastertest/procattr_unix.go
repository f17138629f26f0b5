//go:build unix

package mastertest

import (
	"os"
	"syscall"
)

var (
	termSignal = syscall.SIGTERM
	killSignal = syscall.SIGKILL
)

// newProcAttr puts the child in a process group of its own, so that it can
// be stopped together with whatever it spawned, and so that a Ctrl-C aimed
// at the test binary's terminal group does not reach it before Close runs.
func newProcAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	setParentDeathSignal(attr)
	return attr
}

// signalGroup sends sig to every process in p's process group.
func signalGroup(p *os.Process, sig syscall.Signal) error {
	return syscall.Kill(-p.Pid, sig)
}
