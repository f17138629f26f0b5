//go:build unix

// Unix service managers take their definitions from root only;
// privilege_windows.go asks Windows the same question.

package service

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// ErrNotPrivileged: installing and controlling services needs root or an
// administrator.
var ErrNotPrivileged = errors.New("this needs root: run it with sudo")

// CheckPrivileged returns ErrNotPrivileged unless this process may
// install and control system services.
func CheckPrivileged() error {
	if os.Geteuid() != 0 {
		return ErrNotPrivileged
	}
	return nil
}

// DefaultUser is the account a worker's service runs as when none is
// given: the owner of its configuration file, the one account that can
// read it (create-slave makes it 0600).
func DefaultUser(configPath string) (string, error) {
	fi, err := os.Stat(configPath)
	if err != nil {
		return "", err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", fmt.Errorf("%s: no owner information", filepath.Base(configPath))
	}
	uid := strconv.FormatUint(uint64(st.Uid), 10)
	u, err := user.LookupId(uid)
	if err != nil {
		return "", fmt.Errorf("the owner (uid %s) of %s has no user name: %w", uid, configPath, err)
	}
	return u.Username, nil
}
