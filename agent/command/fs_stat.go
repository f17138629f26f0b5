package command

import (
	"io/fs"
	"os"
	"time"
)

// The Unix file type bits of st_mode, which the master tests with
// stat.S_ISREG and stat.S_ISDIR whatever the worker's system.
const (
	unixIFDIR = 0o040000
	unixIFREG = 0o100000
	unixIFLNK = 0o120000
)

// portableStat is the stat tuple made from os.FileInfo alone: type and
// permission bits, size and modification time.
func portableStat(fi os.FileInfo) Stat {
	mode := int64(fi.Mode().Perm())
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		mode |= unixIFLNK
	case fi.IsDir():
		mode |= unixIFDIR
	case fi.Mode().IsRegular():
		mode |= unixIFREG
	}
	t := fi.ModTime().Unix()
	return Stat{mode, 0, 0, 1, 0, 0, fi.Size(), t, t, t}
}

// portableTimes has no access time to offer, so it repeats the
// modification time, the one keepstamp matters for.
func portableTimes(fi os.FileInfo) (atime, mtime float64) {
	m := secondsOf(fi.ModTime())
	return m, m
}

func secondsOf(t time.Time) float64 {
	return float64(t.UnixNano()) / float64(time.Second)
}
