// Package sharedfile opens files the way POSIX shares them, on every
// system: a reader never stops another process from deleting or replacing
// the file it reads. On Windows os.Open denies both, so a worker that
// watches a build's log or reads a status file would otherwise make the
// build's `del` or the writer's atomic rename fail.
package sharedfile

import (
	"io"
	"time"
)

// Retry runs op until it succeeds, fails with an error that Busy does not
// call transient, or tries runs out; it returns op's last error. Windows
// refuses a rename over a file, or an open of it, for the instant another
// process is replacing it.
func Retry(op func() error) error {
	const tries, pause = 50, 10 * time.Millisecond
	var err error
	for range tries {
		if err = op(); err == nil || !Busy(err) {
			return err
		}
		time.Sleep(pause)
	}
	return err
}

// ReadFile reads path through Open, retrying while the file is busy.
func ReadFile(path string) ([]byte, error) {
	var data []byte
	err := Retry(func() error {
		f, err := Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		data, err = io.ReadAll(f)
		return err
	})
	return data, err
}
