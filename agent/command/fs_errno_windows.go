//go:build windows

package command

import "syscall"

// posixErrno: on Windows an Errno is a Windows error code, not an errno;
// errnoOf then maps the error by its meaning instead.
func posixErrno(errno syscall.Errno) (int, string, bool) {
	return 0, "", false
}
