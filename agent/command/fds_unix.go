//go:build unix

package command

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// KeepDescriptorsFromChildren marks every descriptor above 2 close-on-exec,
// so that a command's processes get only their stdin, stdout and stderr
// (and what a command hands them on purpose), as the reference's do.
//
// The worker's own descriptors are close-on-exec already (Go opens all of
// its files so); this is for the ones it inherited: whatever its parent
// (a shell, a service manager, a CI runner) left open. The worker may go
// on using them. Call it before any command starts.
func KeepDescriptorsFromChildren() {
	if fds, err := os.ReadDir("/dev/fd"); err == nil && len(fds) > 0 {
		// /dev/fd (on Linux /proc/self/fd) lists what is open; the
		// listing's own descriptor, closed by now, fails harmlessly.
		for _, e := range fds {
			if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
				setCloexec(fd)
			}
		}
		return
	}
	// No listing: try every number up to the descriptor limit.
	var lim unix.Rlimit
	limit := 4096
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil && lim.Cur < 1<<20 {
		limit = int(lim.Cur)
	}
	for fd := 3; fd < limit; fd++ {
		setCloexec(fd)
	}
}

func setCloexec(fd int) {
	if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && flags&unix.FD_CLOEXEC == 0 {
		_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETFD, flags|unix.FD_CLOEXEC)
	}
}
