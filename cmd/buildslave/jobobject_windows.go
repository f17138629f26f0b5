// Windows keeps a process's children alive when it dies, unless they are
// in a job object that is closed with it. jobobject_other.go is the no-op
// twin: elsewhere the service manager kills the service's process group
// or cgroup.

package main

import (
	"fmt"

	"golang.org/x/sys/windows"

	"github.com/buildslave/buildslave/internal/winjob"
)

// joinKillOnCloseJob puts this process, and so every process it starts
// from now on, into a new job object that Windows terminates when its last
// handle closes. The handle is never closed: it closes when this process
// exits, however it exits, and takes the builds with it.
func joinKillOnCloseJob() error {
	if _, err := winjob.Assign(windows.CurrentProcess()); err != nil {
		return fmt.Errorf("joining a job object: %w", err)
	}
	return nil
}
