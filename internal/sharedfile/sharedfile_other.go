//go:build !windows

package sharedfile

import "os"

// Open opens path for reading; POSIX already lets others delete or
// replace a file that is open.
func Open(path string) (*os.File, error) { return os.Open(path) }

// Busy reports whether err is a transient refusal because another process
// holds the file; POSIX systems have none.
func Busy(error) bool { return false }
