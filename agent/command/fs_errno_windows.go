//go:build windows

package command

import "syscall"

// posixErrno: on Windows an Errno is a Windows error code, not an errno;
// errnoOf then maps the error by its meaning instead. The exceptions are
// the POSIX errnos this package reports itself (Go gives them invented
// values here): they get their POSIX numbers and texts, so that the master
// sees what it sees from a Linux worker, not "Input/output error".
func posixErrno(errno syscall.Errno) (int, string, bool) {
	switch errno {
	case syscall.EISDIR:
		return 21, "Is a directory", true
	case syscall.ENOTDIR:
		return 20, "Not a directory", true
	}
	return 0, "", false
}
