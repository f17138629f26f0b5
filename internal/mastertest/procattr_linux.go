package mastertest

import "syscall"

// setParentDeathSignal makes the kernel kill the child if the test binary
// dies without running its cleanups (go test's -timeout panic, SIGKILL), so
// that no master or worker is left behind holding ports. The kernel sends
// it when the thread that forked the child exits; the Go runtime only ends
// threads whose goroutine exited while locked to them (LockOSThread), which
// nothing that starts processes here does.
func setParentDeathSignal(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGKILL
}
