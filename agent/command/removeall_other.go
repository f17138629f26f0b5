//go:build !windows

package command

import "os"

// removeAll is os.RemoveAll; see removeall_windows.go for why Windows has
// its own.
func removeAll(p string) error { return os.RemoveAll(p) }
