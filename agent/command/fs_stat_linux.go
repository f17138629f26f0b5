//go:build linux

package command

import (
	"os"
	"syscall"
)

// Linux names the timestamps of struct stat Atim, Mtim and Ctim; the BSDs
// call them Atimespec and so on, hence the twin files.

func statTuple(fi os.FileInfo) Stat {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return portableStat(fi)
	}
	return Stat{
		int64(st.Mode), int64(st.Ino), int64(st.Dev), int64(st.Nlink),
		int64(st.Uid), int64(st.Gid), int64(st.Size),
		int64(st.Atim.Sec), int64(st.Mtim.Sec), int64(st.Ctim.Sec),
	}
}

func fileTimes(fi os.FileInfo) (atime, mtime float64) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return portableTimes(fi)
	}
	return timespecSeconds(st.Atim), timespecSeconds(st.Mtim)
}
