// FreeBSD 13 and later ship /etc/os-release, older ones do not; there is no
// Linux-style /proc, but sysctl(3) has the CPU's name and the memory size.

package hostinfo

import "golang.org/x/sys/unix"

func osName() string {
	if name := OSRelease()["pretty_name"]; name != "" {
		return name
	}
	return unameOS()
}

func cpuModel() string {
	v, err := unix.Sysctl("hw.model")
	if err != nil {
		return ""
	}
	return v
}

func totalMemory() uint64 {
	n, err := unix.SysctlUint64("hw.physmem")
	if err != nil {
		return 0
	}
	return n
}
