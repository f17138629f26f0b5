//go:build windows

package command

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// removeAll is os.RemoveAll, which deletes with POSIX semantics
// (FileDispositionInformationEx) where Windows 10 has them. A file system
// that answers that call with "invalid function" rather than "not
// supported" (Wine's does, and so may a network redirector) makes
// os.RemoveAll fail on every entry; then the tree is removed entry by
// entry with DeleteFile and RemoveDirectory, as older Windows does.
func removeAll(p string) error {
	err := os.RemoveAll(p)
	if err == nil || !errors.Is(err, windows.ERROR_INVALID_FUNCTION) {
		return err
	}
	return removeEach(p)
}

// removeEach removes p and what is below it, deepest first, without
// following links (a junction or symbolic link is removed, not entered).
func removeEach(p string) error {
	fi, err := os.Lstat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	var first error
	if fi.IsDir() && fi.Mode()&fs.ModeSymlink == 0 && fi.Mode()&fs.ModeIrregular == 0 {
		entries, err := os.ReadDir(p)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := removeEach(filepath.Join(p, e.Name())); err != nil && first == nil {
				first = err
			}
		}
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) && first == nil {
		first = err
	}
	return first
}
