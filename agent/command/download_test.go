package command

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func downloadArgs(path string, r FileReader, blocksize int64, maxsize, mode any) Args {
	return Args{"path": path, "reader": r, "blocksize": blocksize, "maxsize": maxsize, "mode": mode}
}

// leftovers lists the names in dir other than want: temporary files a
// download should have removed.
func leftovers(t *testing.T, dir string, want ...string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var extra []string
	for _, e := range entries {
		if !slices.Contains(want, e.Name()) {
			extra = append(extra, e.Name())
		}
	}
	return extra
}

func TestDownloadFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "sub")
	path := filepath.Join(dir, "dl.bin")
	data := []byte("01234567890123456789")
	r := &fakeReader{data: data}
	sink := runCommand(t, "downloadFile", downloadArgs(path, r, 8, nil, int64(0o640)))

	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("file %q, %v; want %q", got, err, data)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode())
	}
	if !slices.Equal(r.reads, []int{8, 8, 8, 8}) {
		t.Errorf("reads %v, want [8 8 8 8] (the last one sees the end)", r.reads)
	}
	if r.closed != 1 {
		t.Errorf("reader closed %d times", r.closed)
	}
	wantKeys(t, sink, "rc", "elapsed")
	wantRC(t, sink, 0)
	if extra := leftovers(t, dir, "dl.bin"); extra != nil {
		t.Errorf("left behind: %v", extra)
	}
}

func TestDownloadFileKeepsModeOfReplacedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "script.sh")
	writeFile(t, path, []byte("old"))
	if err := os.Chmod(path, 0o751); err != nil {
		t.Fatal(err)
	}
	sink := runCommand(t, "download_file", downloadArgs(path, &fakeReader{data: []byte("new")}, 16384, nil, nil))
	wantRC(t, sink, 0)
	got, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(got) != "new" || fi.Mode().Perm() != 0o751 {
		t.Errorf("file %q mode %v, want \"new\" 0751", got, fi.Mode())
	}
}

func TestDownloadFileMaxsize(t *testing.T) {
	for _, tc := range []struct {
		size  int
		rc    int
		reads []int
	}{
		{size: 30, rc: 1, reads: []int{8, 4, 1}},
		// Exactly maxsize: complete, not truncated (see receive).
		{size: 12, rc: 0, reads: []int{8, 4, 1}},
		{size: 11, rc: 0, reads: []int{8, 4, 1}},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "dl.bin")
		writeFile(t, path, []byte("before"))
		r := &fakeReader{data: bytes.Repeat([]byte("n"), tc.size)}
		sink := runCommand(t, "downloadFile", downloadArgs(path, r, 8, int64(12), int64(0o600)))
		wantRC(t, sink, tc.rc)
		if !slices.Equal(r.reads, tc.reads) {
			t.Errorf("size %d: reads %v, want %v", tc.size, r.reads, tc.reads)
		}
		got, _ := os.ReadFile(path)
		if tc.rc == 1 {
			wantKeys(t, sink, "rc", "elapsed", "stderr")
			if want := "Maximum filesize reached, truncating file '" + path + "'\n"; streamText(sink.updates(), "stderr") != want {
				t.Errorf("stderr %q, want %q", streamText(sink.updates(), "stderr"), want)
			}
			// A cut file never replaces the destination.
			if string(got) != "before" {
				t.Errorf("destination %q after a truncated download", got)
			}
		} else if len(got) != tc.size {
			t.Errorf("size %d: file has %d bytes", tc.size, len(got))
		}
		if extra := leftovers(t, dir, "dl.bin"); extra != nil {
			t.Errorf("left behind: %v", extra)
		}
	}
}

func TestDownloadFileCannotOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "adir")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	r := &fakeReader{data: []byte("x")}
	sink := runCommand(t, "downloadFile", downloadArgs(path, r, 8, nil, nil))
	wantKeys(t, sink, "rc", "elapsed", "stderr")
	wantRC(t, sink, 1)
	if got, want := streamText(sink.updates(), "stderr"), "Cannot open file '"+path+"' for download\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
	if len(r.reads) != 0 || r.closed != 1 {
		t.Errorf("reads %v, closed %d: want no read and one close", r.reads, r.closed)
	}
	if sink.failure != nil {
		t.Errorf("failure %v", sink.failure)
	}
}

func TestDownloadFileParentIsAFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "file"), []byte("x"))
	path := filepath.Join(dir, "file", "sub", "dl.bin")
	sink := runCommand(t, "downloadFile", downloadArgs(path, &fakeReader{}, 8, nil, nil))
	// As the reference's os.makedirs raises: the command fails.
	if sink.failure == nil || !strings.Contains(sink.failure.Error(), "not a directory") {
		t.Errorf("failure %v, want not a directory", sink.failure)
	}
}

func TestDownloadFileReadFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dl.bin")
	r := &fakeReader{data: bytes.Repeat([]byte("a"), 100), failAt: 3}
	sink := runCommand(t, "downloadFile", downloadArgs(path, r, 10, nil, nil))
	wantRC(t, sink, 1)
	if !errors.Is(sink.failure, errMaster) {
		t.Errorf("failure %v, want the read's error", sink.failure)
	}
	if r.closed != 1 {
		t.Errorf("reader closed %d times", r.closed)
	}
	if extra := leftovers(t, dir); extra != nil {
		t.Errorf("a partial download was left: %v", extra)
	}
}

func TestDownloadFileInterrupt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dl.bin")
	r := &fakeReader{data: bytes.Repeat([]byte("a"), 100)}
	cmd, err := NewRegistry().New("downloadFile", downloadArgs(path, r, 10, nil, nil), &Environment{})
	if err != nil {
		t.Fatal(err)
	}
	r.onRead = func(n int) {
		if n == 2 {
			cmd.Interrupt("test")
		}
	}
	sink := runCreated(t, cmd)
	if len(r.reads) != 2 || r.closed != 1 {
		t.Errorf("reads %v closed %d, want 2 reads and a close", r.reads, r.closed)
	}
	wantKeys(t, sink, "rc")
	wantRC(t, sink, 1)
	if extra := leftovers(t, dir); extra != nil {
		t.Errorf("a partial download was left: %v", extra)
	}
}
