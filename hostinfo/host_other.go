//go:build !linux && !darwin && !freebsd && !windows

// On systems this package has no specific code for, only what the Go
// runtime knows is reported; the rest stays unknown.

package hostinfo

import "runtime"

func osName() string             { return runtime.GOOS }
func kernel() string             { return "" }
func cpuModel() string           { return "" }
func totalMemory() uint64        { return 0 }
func diskFree(dir string) uint64 { return 0 }
