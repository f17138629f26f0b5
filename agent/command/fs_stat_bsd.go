//go:build darwin || freebsd || netbsd

package command

import (
	"os"
	"syscall"
)

// These systems name the timestamps of struct stat Atimespec and so on;
// Linux calls them Atim, hence the twin files.

func statTuple(fi os.FileInfo) Stat {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return portableStat(fi)
	}
	return Stat{
		int64(st.Mode), int64(st.Ino), int64(st.Dev), int64(st.Nlink),
		int64(st.Uid), int64(st.Gid), int64(st.Size),
		int64(st.Atimespec.Sec), int64(st.Mtimespec.Sec), int64(st.Ctimespec.Sec),
	}
}

func fileTimes(fi os.FileInfo) (atime, mtime float64) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return portableTimes(fi)
	}
	return timespecSeconds(st.Atimespec), timespecSeconds(st.Mtimespec)
}
