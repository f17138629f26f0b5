// Windows keeps a process's children alive when it dies, unless they are
// in a job object that is closed with it. jobobject_other.go is the no-op
// twin: elsewhere the service manager kills the service's process group
// or cgroup.

package main

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// joinKillOnCloseJob puts this process, and so every process it starts
// from now on, into a new job object that Windows terminates when its last
// handle closes. The handle is never closed: it closes when this process
// exits, however it exits, and takes the builds with it.
func joinKillOnCloseJob() error {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return fmt.Errorf("creating a job object: %w", err)
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{
		BasicLimitInformation: windows.JOBOBJECT_BASIC_LIMIT_INFORMATION{
			LimitFlags: windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
		},
	}
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		windows.CloseHandle(job)
		return fmt.Errorf("setting up the job object: %w", err)
	}
	if err := windows.AssignProcessToJobObject(job, windows.CurrentProcess()); err != nil {
		windows.CloseHandle(job)
		return fmt.Errorf("joining the job object: %w", err)
	}
	return nil
}
