package winjob

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Assign puts the process behind handle process into a new job object
// that Windows terminates, with every process in it, when its last handle
// closes, and returns the job's handle. A process already in a job (the
// worker's own) gets the new job nested inside that one, as Windows 8 and
// later allow.
func Assign(process windows.Handle) (windows.Handle, error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return 0, fmt.Errorf("creating a job object: %w", err)
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{
		BasicLimitInformation: windows.JOBOBJECT_BASIC_LIMIT_INFORMATION{
			LimitFlags: windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
		},
	}
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		windows.CloseHandle(job)
		return 0, fmt.Errorf("setting up the job object: %w", err)
	}
	if err := windows.AssignProcessToJobObject(job, process); err != nil {
		windows.CloseHandle(job)
		return 0, fmt.Errorf("putting the process in a job object: %w", err)
	}
	return job, nil
}
