//go:build linux || darwin || freebsd || netbsd

package command

import (
	"os"
	"syscall"
)

// statTuple and fileTimes read struct stat where the system gives one;
// statTimes (fs_stat_linux.go, fs_stat_bsd.go) picks out its timestamps,
// which Linux and the BSDs name differently.

func statTuple(fi os.FileInfo) Stat {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return portableStat(fi)
	}
	atime, mtime, ctime := statTimes(st)
	// The field types differ between systems and architectures (32-bit
	// ones have smaller Size and Sec fields): the conversions are needed
	// there.
	return Stat{
		int64(st.Mode), int64(st.Ino), int64(st.Dev), int64(st.Nlink), //nolint:unconvert
		int64(st.Uid), int64(st.Gid), int64(st.Size), //nolint:unconvert
		int64(atime.Sec), int64(mtime.Sec), int64(ctime.Sec), //nolint:unconvert
	}
}

func fileTimes(fi os.FileInfo) (atime, mtime float64) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return portableTimes(fi)
	}
	a, m, _ := statTimes(st)
	return timespecSeconds(a), timespecSeconds(m)
}
