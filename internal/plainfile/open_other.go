//go:build !linux

package plainfile

import "os"

// Open opens name for reading.
func Open(name string) (*os.File, error) { return os.Open(name) }
