package metrics

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// startTime is when the process started, in seconds since the epoch, from
// its kinfo_proc.
func startTime() (float64, bool) {
	p, err := unix.SysctlKinfoProc("kern.proc.pid", os.Getpid())
	if err != nil {
		return 0, false
	}
	return float64(time.Duration(p.Proc.P_starttime.Nano())) / float64(time.Second), true
}
