package metrics

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

// writeProcess writes client_golang's process_* metrics as Windows gives
// them: CPU and start time from GetProcessTimes, the working set as
// resident and the private bytes as virtual memory from
// GetProcessMemoryInfo, handles as open file descriptors.
func writeProcess(e *exposition) {
	self := windows.CurrentProcess()
	var created, exited, kernel, user windows.Filetime
	if windows.GetProcessTimes(self, &created, &exited, &kernel, &user) == nil {
		// Kernel and user times are durations in units of 100 ns.
		ticks := func(f windows.Filetime) float64 { return float64(uint64(f.HighDateTime)<<32 | uint64(f.LowDateTime)) }
		e.single("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", (ticks(kernel)+ticks(user))/1e7)
		e.single("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", float64(created.Nanoseconds())/1e9)
	}
	var mem processMemoryCountersEx
	mem.cb = uint32(unsafe.Sizeof(mem))
	if r, _, _ := procGetProcessMemoryInfo.Call(uintptr(self), uintptr(unsafe.Pointer(&mem)), uintptr(mem.cb)); r != 0 {
		e.single("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", float64(mem.workingSetSize))
		e.single("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", float64(mem.privateUsage))
	}
	var handles uint32
	if r, _, _ := procGetProcessHandleCount.Call(uintptr(self), uintptr(unsafe.Pointer(&handles))); r != 0 {
		e.single("process_open_fds", "gauge", "Number of open file descriptors.", float64(handles))
	}
}

var (
	procGetProcessMemoryInfo  = windows.NewLazySystemDLL("psapi.dll").NewProc("GetProcessMemoryInfo")
	procGetProcessHandleCount = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetProcessHandleCount")
)

// processMemoryCountersEx is PSAPI's PROCESS_MEMORY_COUNTERS_EX.
type processMemoryCountersEx struct {
	cb                         uint32
	pageFaultCount             uint32
	peakWorkingSetSize         uintptr
	workingSetSize             uintptr
	quotaPeakPagedPoolUsage    uintptr
	quotaPagedPoolUsage        uintptr
	quotaPeakNonPagedPoolUsage uintptr
	quotaNonPagedPoolUsage     uintptr
	pagefileUsage              uintptr
	peakPagefileUsage          uintptr
	privateUsage               uintptr
}
