package command

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
)

// A disk that fills up halfway through a download (here: the file size
// limit, which fails the write the same way, EFBIG instead of ENOSPC)
// fails the step with the write's error and leaves no partial file. Go
// ignores SIGXFSZ, so the write just fails.
func TestDownloadPipelinedDiskFull(t *testing.T) {
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skip(err)
	}
	limit := old
	limit.Cur = 3 * transferBlock
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limit); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "dl.bin")
	r := &pipeReader{data: randomBytes(2 * transferWindow)}
	sink := runCommand(t, "downloadFile", downloadArgs(path, r, 16384, nil, nil))
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	wantRC(t, sink, 1)
	if !errors.Is(sink.failure, syscall.EFBIG) {
		t.Errorf("failure %v, want the write's EFBIG", sink.failure)
	}
	if r.closeCount() != 1 {
		t.Errorf("reader closed %d times", r.closeCount())
	}
	if extra := leftovers(t, dir); extra != nil {
		t.Errorf("a partial download was left: %v", extra)
	}
}
