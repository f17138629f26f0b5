package command

import (
	"io"
	"os"
	"time"
)

// How watched log files are read (COMMANDS.md §2.5).
const (
	logPollInterval = 2 * time.Second
	logReadChunk    = 10000
)

// logWatcher follows one file of the logfiles argument. Nothing is sent
// until the file differs from what it was before the command started, so
// a stale file from an earlier build is never sent.
type logWatcher struct {
	name   string
	path   string
	follow bool
	before os.FileInfo // nil if the file did not exist
	f      *os.File    // open once the file has changed
	buf    []byte
}

func newLogWatcher(spec logfileSpec, workdir string) *logWatcher {
	w := &logWatcher{name: spec.name, path: JoinPath(workdir, spec.filename), follow: spec.follow}
	w.before = w.stat()
	return w
}

func (w *logWatcher) stat() os.FileInfo {
	fi, err := os.Stat(w.path)
	if err != nil {
		return nil
	}
	return fi
}

// poll sends what the file has gained since the last poll and reports
// whether there was anything.
func (w *logWatcher) poll(out *Output) bool {
	if w.f == nil && !w.open() {
		return false
	}
	if w.buf == nil {
		w.buf = make([]byte, logReadChunk)
	}
	got := false
	for {
		n, err := w.f.Read(w.buf)
		if n > 0 {
			out.Log(w.name, string(w.buf[:n]))
			got = true
		}
		if err != nil || n == 0 {
			return got
		}
	}
}

// open opens the file once it has changed; with follow, reading starts at
// the size it has then.
func (w *logWatcher) open() bool {
	now := w.stat()
	if sameFileState(now, w.before) {
		return false
	}
	if now == nil {
		// Deleted, probably to be written anew: wait for the new file.
		w.before = nil
		return false
	}
	f, err := openShared(w.path)
	if err != nil {
		return false
	}
	if w.follow {
		if _, err := f.Seek(now.Size(), io.SeekStart); err != nil {
			f.Close()
			return false
		}
	}
	w.f = f
	return true
}

func (w *logWatcher) close() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
}

// sameFileState compares what the reference compares (times and size),
// and the file's identity, which catches a file replaced by another.
func sameFileState(a, b os.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b) && a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size()
}
