//go:build !linux && !darwin && !freebsd && !netbsd

package command

import "os"

// Elsewhere (Windows above all) there is no struct stat to read: the tuple
// is made from what os.FileInfo knows, as Python's os.stat makes up st_mode
// from the file attributes on Windows.

func statTuple(fi os.FileInfo) Stat { return portableStat(fi) }

func fileTimes(fi os.FileInfo) (atime, mtime float64) { return portableTimes(fi) }
