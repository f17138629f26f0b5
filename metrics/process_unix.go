//go:build unix && !linux

package metrics

import (
	"os"
	"syscall"
	"time"
)

// writeProcess writes what of client_golang's process_* metrics these
// systems give without cgo: CPU time, open and maximum file descriptors,
// the address space limit, and (startTime, per system) the start time.
func writeProcess(e *exposition) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		cpu := time.Duration(ru.Utime.Nano()) + time.Duration(ru.Stime.Nano())
		e.single("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", cpu.Seconds())
	}
	if fds, err := os.ReadDir("/dev/fd"); err == nil {
		// One of them is the directory being read.
		e.single("process_open_fds", "gauge", "Number of open file descriptors.", float64(len(fds)-1))
	}
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		e.single("process_max_fds", "gauge", "Maximum number of open file descriptors.", float64(lim.Cur))
	}
	if start, ok := startTime(); ok {
		e.single("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", start)
	}
	if syscall.Getrlimit(syscall.RLIMIT_AS, &lim) == nil {
		e.single("process_virtual_memory_max_bytes", "gauge", "Maximum amount of virtual memory available in bytes.", float64(lim.Cur))
	}
}
