//go:build !unix

// Pseudo-terminals exist only on POSIX systems; see pty_unix.go. Here, as
// with the reference off POSIX, usePTY is refused with a warning and the
// command runs with pipes.

package command

import "errors"

// ptySupported says whether commands can run under a pseudo-terminal here.
const ptySupported = false

// startPTYChild is never reached here, since canUsePTY is false; it exists
// so that startChild compiles on every OS.
func startPTYChild(childSpec) (*child, error) {
	return nil, errors.New("pseudo-terminals are not supported on this system")
}
