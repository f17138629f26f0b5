// Linux describes itself in /etc/os-release and /proc; sysinfo(2) gives
// the memory without parsing text.

package hostinfo

import (
	"bufio"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

func osName() string {
	if name := OSRelease()["pretty_name"]; name != "" {
		return name
	}
	return unameOS()
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	return parseCPUInfo(f)
}

// parseCPUInfo finds the processor's name in /proc/cpuinfo. Keys are
// case-sensitive: "processor", lowercase, is the CPU's index on x86.
func parseCPUInfo(r io.Reader) string {
	found := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if _, seen := found[key]; !seen && value != "" {
			found[key] = value
		}
	}
	// The fields naming the processor, by preference: x86 has "model
	// name"; ARM, MIPS and POWER kernels use the others.
	for _, k := range []string{"model name", "Processor", "cpu model", "cpu", "Hardware"} {
		if v := found[k]; v != "" {
			return v
		}
	}
	return ""
}

func totalMemory() uint64 {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return 0
	}
	// Totalram is counted in units of Unit bytes, and its type
	// differs between 32- and 64-bit systems.
	return uint64(si.Totalram) * uint64(si.Unit) //nolint:unconvert // uint32 on 32-bit systems
}
