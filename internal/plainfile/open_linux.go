package plainfile

import (
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// Open opens name for reading. It is meant for regular files: reading a
// FIFO or a device opened this way blocks a thread rather than parking a
// goroutine.
func Open(name string) (*os.File, error) {
	for {
		fd, err := unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return os.NewFile(uintptr(fd), name), nil
	}
}
