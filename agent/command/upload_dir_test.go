package command

import (
	"archive/tar"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// makeTree builds a directory with the cases a directory upload must keep:
// an executable, a symlink, an empty directory, a nested file.
func makeTree(t *testing.T, root string) {
	t.Helper()
	writeFile(t, filepath.Join(root, "a.txt"), []byte("alpha\n"))
	writeFile(t, filepath.Join(root, "sub", "deep", "b.txt"), []byte("beta\n"))
	writeFile(t, filepath.Join(root, "run.sh"), []byte("#!/bin/sh\necho hi\n"))
	if err := os.Chmod(filepath.Join(root, "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "empty"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.txt", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	// Whatever the umask.
	for name, mode := range map[string]fs.FileMode{
		".": 0o755, "sub": 0o755, "sub/deep": 0o755, "empty": 0o750,
		"a.txt": 0o644, "sub/deep/b.txt": 0o644, "run.sh": 0o755,
	} {
		if err := os.Chmod(filepath.Join(root, name), mode); err != nil {
			t.Fatal(err)
		}
	}
}

type tarMember struct {
	typ  byte
	mode int64
	link string
	data string
}

func readTar(t *testing.T, data []byte, compress string) map[string]tarMember {
	t.Helper()
	var r io.Reader = bytes.NewReader(data)
	switch compress {
	case "gz":
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "bz2":
		r = bzip2.NewReader(r)
	}
	tr := tar.NewReader(r)
	members := map[string]tarMember{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return members
		}
		if err != nil {
			t.Fatalf("reading the archive: %v", err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		members[h.Name] = tarMember{typ: h.Typeflag, mode: h.Mode & 0o7777, link: h.Linkname, data: string(body)}
	}
}

func TestUploadDirectory(t *testing.T) {
	root := filepath.Join(t.TempDir(), "tree")
	makeTree(t, root)
	for _, compress := range []any{nil, "gz", "bz2"} {
		name, _ := compress.(string)
		t.Run("compress="+name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp) // to see that the archive is removed
			var members map[string]tarMember
			w := &fakeWriter{unpacked: func(data []byte) { members = readTar(t, data, name) }}
			args := Args{"path": root, "writer": w, "blocksize": int64(16384), "maxsize": nil, "compress": compress}
			sink := runCommand(t, "uploadDirectory", args)

			wantKeys(t, sink, "header", "rc", "elapsed")
			wantRC(t, sink, 0)
			if got := streamText(sink.updates(), "header"); got != "sending "+root+"\n" {
				t.Errorf("header %q", got)
			}
			if got := w.callsWithoutWrites(); !slices.Equal(got, []string{"unpack"}) {
				t.Errorf("writer calls %v, want [unpack]", got)
			}
			want := map[string]tarMember{
				"./":             {typ: tar.TypeDir, mode: 0o755},
				"a.txt":          {typ: tar.TypeReg, mode: 0o644, data: "alpha\n"},
				"empty/":         {typ: tar.TypeDir, mode: 0o750},
				"link":           {typ: tar.TypeSymlink, mode: 0o777, link: "a.txt"},
				"run.sh":         {typ: tar.TypeReg, mode: 0o755, data: "#!/bin/sh\necho hi\n"},
				"sub/":           {typ: tar.TypeDir, mode: 0o755},
				"sub/deep/":      {typ: tar.TypeDir, mode: 0o755},
				"sub/deep/b.txt": {typ: tar.TypeReg, mode: 0o644, data: "beta\n"},
			}
			if !maps.Equal(members, want) {
				t.Errorf("archive members\n%v\nwant\n%v", members, want)
			}
			if extra := leftovers(t, tmp); extra != nil {
				t.Errorf("temporary files left: %v", extra)
			}
		})
	}
}

func TestUploadDirectoryMissing(t *testing.T) {
	w := &fakeWriter{}
	path := filepath.Join(t.TempDir(), "nodir")
	args := Args{"path": path, "writer": w, "blocksize": int64(16384), "maxsize": nil, "compress": nil}
	sink := runCommand(t, "upload_directory", args)
	if !errors.Is(sink.failure, fs.ErrNotExist) {
		t.Errorf("failure %v, want the missing directory", sink.failure)
	}
	if rcs := valuesOf(sink.updates(), "rc"); len(rcs) != 0 {
		t.Errorf("rc %v sent; the reference sends none", rcs)
	}
	if len(w.calls) != 0 {
		t.Errorf("writer calls %v, want none", w.calls)
	}
}

func TestUploadDirectoryOfAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	writeFile(t, path, []byte("x"))
	w := &fakeWriter{}
	sink := runCommand(t, "uploadDirectory", Args{"path": path, "writer": w, "blocksize": int64(100), "compress": nil})
	if sink.failure == nil || len(w.calls) != 0 {
		t.Errorf("failure %v, writer calls %v: want a failure and no transfer", sink.failure, w.calls)
	}
}

func TestUploadDirectoryWriteFails(t *testing.T) {
	root := filepath.Join(t.TempDir(), "tree")
	makeTree(t, root)
	w := &fakeWriter{failAt: 1}
	args := Args{"path": root, "writer": w, "blocksize": int64(100), "maxsize": nil, "compress": nil}
	sink := runCommand(t, "uploadDirectory", args)
	wantRC(t, sink, 1)
	if !errors.Is(sink.failure, errMaster) {
		t.Errorf("failure %v", sink.failure)
	}
	if slices.Contains(w.calls, "unpack") {
		t.Error("unpack called after a failed write")
	}
}

func TestUploadDirectoryMaxsize(t *testing.T) {
	root := filepath.Join(t.TempDir(), "tree")
	makeTree(t, root)
	w := &fakeWriter{}
	args := Args{"path": root, "writer": w, "blocksize": int64(64), "maxsize": int64(100), "compress": "gz"}
	sink := runCommand(t, "uploadDirectory", args)
	wantKeys(t, sink, "header", "rc", "elapsed", "stderr")
	wantRC(t, sink, 1)
	if got := w.blockSizes(); !slices.Equal(got, []int{64, 36}) {
		t.Errorf("blocks %v, want [64 36]", got)
	}
	if got := w.callsWithoutWrites(); !slices.Equal(got, []string{"unpack"}) {
		t.Errorf("writer calls %v", got)
	}
}
