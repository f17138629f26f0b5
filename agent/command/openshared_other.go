//go:build !windows

package command

import "os"

// openShared is os.Open: POSIX never stops others from deleting or
// renaming an open file (see openshared_windows.go).
func openShared(path string) (*os.File, error) { return os.Open(path) }
