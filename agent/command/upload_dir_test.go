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

// A directory that cannot be read ends the command with rc 1 and the
// reference's stderr text (4.3 transfer.py, WorkerDirectoryUploadCommand.start:
// "Cannot read directory '<path>' for upload: <OSError>"), before any call
// to the master's writer and without the "sending" header; the rc comes
// first, then the text (test_commands_transfer.py,
// test_directory_not_available).
func TestUploadDirectoryUnreadable(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nodir")
	file := filepath.Join(t.TempDir(), "file")
	writeFile(t, file, []byte("x"))
	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing", missing, "Cannot read directory '" + missing + "' for upload: [Errno 2] No such file or directory: '" + missing + "'\n"},
		{"a file", file, "Cannot read directory '" + file + "' for upload: [Errno 20] Not a directory: '" + file + "'\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &fakeWriter{}
			args := Args{"path": tc.path, "writer": w, "blocksize": int64(16384), "maxsize": nil, "compress": nil}
			sink := runCommand(t, "upload_directory", args)
			if sink.failure != nil {
				t.Errorf("failure %v; the reference completes normally", sink.failure)
			}
			if got := keys(sink.updates()); !slices.Equal(got, []string{"rc", "elapsed", "stderr"}) {
				t.Errorf("updates %v, want [rc elapsed stderr]", got)
			}
			wantRC(t, sink, 1)
			if got := streamText(sink.updates(), "stderr"); got != tc.want {
				t.Errorf("stderr %q\nwant   %q", got, tc.want)
			}
			if len(w.calls) != 0 {
				t.Errorf("writer calls %v, want none", w.calls)
			}
		})
	}
}

// A file inside the tree that cannot be read is reported the same way,
// naming the file, as tarfile's open raises inside archive.add.
func TestUploadDirectoryUnreadableMember(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file")
	}
	root := filepath.Join(t.TempDir(), "tree")
	makeTree(t, root)
	secret := filepath.Join(root, "a.txt")
	if err := os.Chmod(secret, 0); err != nil {
		t.Fatal(err)
	}
	w := &fakeWriter{}
	sink := runCommand(t, "uploadDirectory", Args{"path": root, "writer": w, "blocksize": int64(100), "compress": nil})
	wantRC(t, sink, 1)
	want := "Cannot read directory '" + root + "' for upload: [Errno 13] Permission denied: '" + secret + "'\n"
	if got := streamText(sink.updates(), "stderr"); got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
	if sink.failure != nil || len(w.calls) != 0 {
		t.Errorf("failure %v, writer calls %v", sink.failure, w.calls)
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
