package metrics

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// writeProcess writes the process_* metrics of client_golang's process
// collector, from /proc/self. A figure that cannot be read is left out
// rather than written as 0.
func writeProcess(e *exposition) {
	if st, err := os.ReadFile("/proc/self/stat"); err == nil {
		// Fields count from after the command name's closing parenthesis,
		// where field 3 (state) begins.
		if i := bytes.LastIndexByte(st, ')'); i >= 0 {
			f := strings.Fields(string(st[i+1:]))
			field := func(n int) float64 { // n as numbered in proc(5)
				if n-3 >= len(f) {
					return 0
				}
				v, _ := strconv.ParseFloat(f[n-3], 64)
				return v
			}
			if len(f) >= 22 {
				e.single("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", (field(14)+field(15))/userHZ)
				e.single("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", field(24)*float64(os.Getpagesize()))
				if boot, ok := bootTime(); ok {
					e.single("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", boot+field(22)/userHZ)
				}
				e.single("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", field(23))
			}
		}
	}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		// One of them is the directory being read.
		e.single("process_open_fds", "gauge", "Number of open file descriptors.", float64(len(fds)-1))
	}
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		e.single("process_max_fds", "gauge", "Maximum number of open file descriptors.", float64(lim.Cur))
	}
	if syscall.Getrlimit(syscall.RLIMIT_AS, &lim) == nil {
		e.single("process_virtual_memory_max_bytes", "gauge", "Maximum amount of virtual memory available in bytes.", float64(lim.Cur))
	}
	if in, out, ok := networkBytes(); ok {
		e.single("process_network_receive_bytes_total", "counter", "Number of bytes received by the process over the network.", in)
		e.single("process_network_transmit_bytes_total", "counter", "Number of bytes sent by the process over the network.", out)
	}
}

// userHZ is the unit of /proc's times: 100 on every Linux architecture Go
// supports (sysconf would need cgo).
const userHZ = 100

// bootTime is when the system started, in seconds since the epoch: btime
// of /proc/stat.
func bootTime() (float64, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "btime "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}

// networkBytes is InOctets and OutOctets of the process's network
// namespace, from the IpExt lines of /proc/self/net/netstat (a header
// line of names, then one of values).
func networkBytes() (in, out float64, ok bool) {
	b, err := os.ReadFile("/proc/self/net/netstat")
	if err != nil {
		return 0, 0, false
	}
	var names []string
	for line := range strings.Lines(string(b)) {
		rest, found := strings.CutPrefix(line, "IpExt:")
		if !found {
			continue
		}
		if names == nil {
			names = strings.Fields(rest)
			continue
		}
		var gotIn, gotOut bool
		for i, v := range strings.Fields(rest) {
			if i >= len(names) {
				break
			}
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			switch names[i] {
			case "InOctets":
				in, gotIn = n, true
			case "OutOctets":
				out, gotOut = n, true
			}
		}
		return in, out, gotIn && gotOut
	}
	return 0, 0, false
}
