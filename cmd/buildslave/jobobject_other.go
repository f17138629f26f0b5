//go:build !windows

// Only Windows lets a process's children outlive it unless they are in a
// job object (jobobject_windows.go); elsewhere the service manager stops
// the whole process group or cgroup, and this does nothing.

package main

// joinKillOnCloseJob does nothing outside Windows.
func joinKillOnCloseJob() error { return nil }
