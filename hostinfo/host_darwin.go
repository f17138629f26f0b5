// macOS has no /etc/os-release and no /proc: sysctl(3) has the product
// version, the CPU's name and the memory size.

package hostinfo

import "golang.org/x/sys/unix"

func osName() string {
	if v, err := unix.Sysctl("kern.osproductversion"); err == nil && v != "" {
		return "macOS " + v
	}
	return unameOS()
}

func cpuModel() string {
	v, err := unix.Sysctl("machdep.cpu.brand_string")
	if err != nil {
		return ""
	}
	return v
}

func totalMemory() uint64 {
	n, err := unix.SysctlUint64("hw.memsize")
	if err != nil {
		return 0
	}
	return n
}
