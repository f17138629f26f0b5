package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"

	"github.com/buildslave/buildslave/agent/command"
)

// pyException is a Go error as the Python exception the reference worker
// would have raised in its place, so that what the master shows reads the
// same whatever the worker. Both protocols use it: PB sends it as a
// CopyableFailure, msgpack as text.
type pyException struct {
	Class string // the qualified class name, "builtins.FileNotFoundError"
	Value string // str() of the exception
	// Bases are the class's bases to report beyond Class itself and the
	// ones every exception has.
	Bases []string
}

// pythonException maps err to the exception the reference would raise.
func pythonException(err error) pyException {
	var unknown *command.UnknownCommandError
	if errors.As(err, &unknown) {
		return pyException{"buildbot_worker.base.UnknownCommand", err.Error(), []string{"twisted.spread.pb.Error"}}
	}
	var missing *command.MissingArgsError
	if errors.As(err, &missing) {
		return pyException{"builtins.ValueError", err.Error(), nil}
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if class, ok := osErrorClasses[errno]; ok {
			value := fmt.Sprintf("[Errno %d] %s", int(errno), strerror(errno))
			var pe *fs.PathError
			if errors.As(err, &pe) {
				value += fmt.Sprintf(": '%s'", pe.Path)
			}
			return pyException{"builtins." + class, value, []string{"builtins.OSError"}}
		}
		return pyException{"builtins.OSError", err.Error(), nil}
	}
	return pyException{"builtins.RuntimeError", err.Error(), nil}
}

// failureText is the exception as str() of a Twisted Failure without
// frames shows it, which is what the reference's msgpack worker sends as a
// failed command's complete.
func (e pyException) failureText() string {
	short := strings.TrimPrefix(e.Class, "builtins.")
	return fmt.Sprintf("[Failure instance: Traceback (failure with no frames): <class '%s'>: %s\n]", short, e.Value)
}

// strerror is the C library's text, which Python shows: Go's own texts are
// the same words in lower case.
func strerror(errno syscall.Errno) string {
	s := errno.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

var osErrorClasses = map[syscall.Errno]string{
	syscall.ENOENT:  "FileNotFoundError",
	syscall.EEXIST:  "FileExistsError",
	syscall.ENOTDIR: "NotADirectoryError",
	syscall.EISDIR:  "IsADirectoryError",
	syscall.EACCES:  "PermissionError",
	syscall.EPERM:   "PermissionError",
}
