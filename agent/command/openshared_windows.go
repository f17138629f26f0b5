//go:build windows

package command

import (
	"os"

	"golang.org/x/sys/windows"
)

// openShared opens a file for reading the way POSIX does: the build may
// still delete or rename it while the worker reads (os.Open denies that
// on Windows, and a build's `del my.log` then fails with a sharing
// violation because the worker watches the file).
func openShared(path string) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}
