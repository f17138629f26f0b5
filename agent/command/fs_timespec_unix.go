//go:build linux || darwin || freebsd || netbsd

package command

import "syscall"

// timespecSeconds is a struct stat time as the float Python's os.stat gives.
func timespecSeconds(ts syscall.Timespec) float64 {
	sec, nsec := ts.Unix()
	return float64(sec) + float64(nsec)/1e9
}
