package hostinfo

import "fmt"

// Below these a host can run a worker, but most projects' builds will be
// slow or fail for lack of room.
const (
	MinCPUs     = 2
	MinMemory   = 512 << 20 // bytes
	MinDiskFree = 30 << 30  // bytes
)

// Warnings says, one sentence each, how this host falls short of the
// minimums above. Unknown values are not warned about.
func (i Info) Warnings() []string {
	var w []string
	if i.CPUs > 0 && i.CPUs < MinCPUs {
		w = append(w, fmt.Sprintf("this host has %d CPU; builds will be slow (%d or more recommended)", i.CPUs, MinCPUs))
	}
	if i.Memory > 0 && i.Memory < MinMemory {
		w = append(w, fmt.Sprintf("this host has %s of memory; builds may run out (%s or more recommended)", size(i.Memory), size(MinMemory)))
	}
	if i.DiskFree > 0 && i.DiskFree < MinDiskFree {
		w = append(w, fmt.Sprintf("only %s of disk is free in %s; builds may run out (%s or more recommended)", size(i.DiskFree), i.Basedir, size(MinDiskFree)))
	}
	return w
}
