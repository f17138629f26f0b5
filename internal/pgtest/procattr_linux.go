package pgtest

import "syscall"

// procAttr runs the server as cred, and has the kernel stop it should the
// test binary die without calling Stop.
func procAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGINT}
}
