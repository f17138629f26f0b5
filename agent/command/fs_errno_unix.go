//go:build !windows

package command

import (
	"strings"
	"syscall"
)

// posixErrno: on POSIX systems an Errno is the errno Python reports, and
// Go's text for it is the C library's in lower case.
func posixErrno(errno syscall.Errno) (int, string, bool) {
	return int(errno), capitalize(errno.Error()), true
}

// capitalize turns Go's lower-case errno text into the C library's.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
