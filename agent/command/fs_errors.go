package command

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
)

// reportOSError ends a filesystem command the way the reference does on an
// OSError (COMMANDS.md §4): rc is the errno and the header reads
// "<cmd>: <strerror>: <path>". The header has no newline, so it arrives
// after rc and elapsed, completed with one, as the master sees it from the
// Python worker.
func reportOSError(out *Output, cmd, path string, err error) {
	errno, text := errnoOf(err)
	out.Header(cmd + ": " + text + ": " + path)
	out.RC(errno)
}

// errnoOf returns the errno Python would report for err and the C
// library's text for it ("No such file or directory").
func errnoOf(err error) (int, string) {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if n, text, ok := posixErrno(errno); ok {
			return n, text
		}
	}
	// Errors without an errno of their own get the one that describes
	// them, as Python maps Windows error codes to errno values.
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 2, "No such file or directory"
	case errors.Is(err, fs.ErrPermission):
		return 13, "Permission denied"
	case errors.Is(err, fs.ErrExist):
		return 17, "File exists"
	}
	return 5, "Input/output error"
}

// pyOSErrorText is str() of the OSError Python would raise for err:
// "[Errno 2] No such file or directory: '/the/path'", the path quoted as
// Python's repr quotes it. An error that is not about the filesystem
// keeps its own text.
func pyOSErrorText(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) && !errors.Is(err, fs.ErrNotExist) &&
		!errors.Is(err, fs.ErrPermission) && !errors.Is(err, fs.ErrExist) {
		return err.Error()
	}
	n, text := errnoOf(err)
	s := fmt.Sprintf("[Errno %d] %s", n, text)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		s += ": " + pyRepr(pe.Path)
	}
	return s
}
