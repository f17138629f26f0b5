//go:build !windows

package command

import "syscall"

// posixErrno: on POSIX systems an Errno is the errno Python reports, and
// Go's text for it is the C library's in lower case.
func posixErrno(errno syscall.Errno) (int, string, bool) {
	return int(errno), capitalize(errno.Error()), true
}
