// Windows services are installed by administrators; privilege_unix.go has
// the Unix twin.

package service

import (
	"errors"

	"golang.org/x/sys/windows"
)

// ErrNotPrivileged: installing and controlling services needs root or an
// administrator.
var ErrNotPrivileged = errors.New("this needs an administrator: run it from a command prompt opened with 'Run as administrator'")

// CheckPrivileged returns ErrNotPrivileged unless this process may
// install and control system services: its token is elevated.
func CheckPrivileged() error {
	if !windows.GetCurrentProcessToken().IsElevated() {
		return ErrNotPrivileged
	}
	return nil
}

// DefaultUser is empty on Windows: the service runs as LocalSystem unless
// told otherwise, which can read any worker directory.
func DefaultUser(string) (string, error) {
	return "", nil
}
