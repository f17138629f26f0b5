package command

import "syscall"

// statTimes: Linux names the timestamps of struct stat Atim, Mtim and Ctim.
func statTimes(st *syscall.Stat_t) (atime, mtime, ctime syscall.Timespec) {
	return st.Atim, st.Mtim, st.Ctim
}
