// Linux tells which program a process runs through /proc; exe_windows.go
// and exe_other.go have the same function for other systems.

package main

import (
	"os"
	"strconv"
	"strings"
)

// processExecutable returns the path of the program pid runs.
func processExecutable(pid int) (string, error) {
	path, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		return "", err
	}
	// A binary replaced by an upgrade while running shows as deleted.
	return strings.TrimSuffix(path, " (deleted)"), nil
}
