// Package hostinfo describes the machine a worker runs on: for the
// info/host file that create-slave writes, for warnings about hosts too
// small to build on, and, through OSRelease, for the os_* keys the worker
// reports to the master.
//
// Everything here is best effort: a value that cannot be found is left at
// its zero value and shown as unknown, never an error, since a description
// of the host is never worth failing over.
package hostinfo

import (
	"fmt"
	"runtime"
	"strings"
)

// Info describes a host. Zero values mean unknown.
type Info struct {
	OS       string // e.g. "Debian GNU/Linux 12 (bookworm)"
	Kernel   string // e.g. "6.1.0-18-amd64"
	Arch     string // GOARCH, e.g. "amd64"
	CPUModel string // e.g. "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz"
	CPUs     int
	Memory   uint64 // total, in bytes
	// DiskFree is the space available to the worker in its base
	// directory, in bytes.
	DiskFree uint64
	Basedir  string
	Version  string // of the buildslave binary
}

// Collect describes this host. basedir is the directory whose free space
// is measured; version is the buildslave version, for Text.
func Collect(basedir, version string) Info {
	return Info{
		OS:       osName(),
		Kernel:   kernel(),
		Arch:     runtime.GOARCH,
		CPUModel: cpuModel(),
		CPUs:     runtime.NumCPU(),
		Memory:   totalMemory(),
		DiskFree: diskFree(basedir),
		Basedir:  basedir,
		Version:  version,
	}
}

// Text is the content of BASEDIR/info/host, which the master shows to its
// users as the worker's description. Free disk space is left out: it would
// be stale by the first build.
func (i Info) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by buildslave %s: describe this build host as you like; the master shows this file.\n",
		orUnknown(i.Version))
	osLine := orUnknown(i.OS)
	if i.Kernel != "" {
		osLine += ", kernel " + i.Kernel
	}
	fmt.Fprintf(&b, "OS: %s, %s\n", osLine, orUnknown(i.Arch))
	cpus := "unknown number of"
	if i.CPUs > 0 {
		cpus = fmt.Sprint(i.CPUs)
	}
	fmt.Fprintf(&b, "CPU: %s x %s\n", cpus, orUnknown(i.CPUModel))
	fmt.Fprintf(&b, "Memory: %s\n", size(i.Memory))
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// size renders a byte count for people, in binary units; 0 means unknown.
func size(n uint64) string {
	if n == 0 {
		return "unknown"
	}
	return Bytes(n)
}

// Bytes renders a byte count for people, in binary units: "512 B",
// "1.5 KiB", "30.0 GiB".
func Bytes(n uint64) string {
	const unit = 1 << 10
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	value, prefix := float64(n)/unit, 0
	for value >= unit && prefix < len("MGTPE") {
		value /= unit
		prefix++
	}
	return fmt.Sprintf("%.1f %ciB", value, "KMGTPE"[prefix])
}

// DiskFree is the space, in bytes, an unprivileged process may still use
// in dir; 0 when unknown.
func DiskFree(dir string) uint64 { return diskFree(dir) }
