//go:build darwin || freebsd || netbsd

package command

import "syscall"

// statTimes: these systems name the timestamps of struct stat Atimespec,
// Mtimespec and Ctimespec.
func statTimes(st *syscall.Stat_t) (atime, mtime, ctime syscall.Timespec) {
	return st.Atimespec, st.Mtimespec, st.Ctimespec
}
