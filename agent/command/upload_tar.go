package command

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/dsnet/compress/bzip2"

	"github.com/buildslave/buildslave/internal/plainfile"
)

// writeTar writes a tar archive of the directory root to w, compressed as
// compress says ("gz", "bz2", anything else none), with the members named
// relative to root as the reference's tarfile.add(root, "") names them
// (the root itself is "./", which makes the master give its destination
// the root's mode and times). Symbolic links stay links, empty directories
// and permission bits are kept, sockets are skipped as tarfile skips them.
// The standard library only decompresses bzip2; dsnet/compress writes it.
func writeTar(w io.Writer, root, compress string) error {
	if fi, err := os.Stat(root); err != nil {
		return err
	} else if !fi.IsDir() {
		return &fs.PathError{Op: "archive", Path: root, Err: syscall.ENOTDIR}
	}
	var zw io.WriteCloser
	switch compress {
	case "gz":
		zw = gzip.NewWriter(w)
	case "bz2":
		bw, err := bzip2.NewWriter(w, nil)
		if err != nil {
			return fmt.Errorf("starting bzip2: %w", err)
		}
		zw = bw
	default:
		zw = nopWriteCloser{w}
	}
	tw := tar.NewWriter(zw)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return addTarMember(tw, root, path)
	})
	if err == nil {
		err = tw.Close()
	}
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	return err
}

// addTarMember writes the header, and for a regular file the contents, of
// path.
func addTarMember(tw *tar.Writer, root, path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSocket != 0 {
		return nil
	}
	var link string
	if fi.Mode()&fs.ModeSymlink != 0 {
		if link, err = os.Readlink(path); err != nil {
			return err
		}
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return err
	}
	hdr.Name = filepath.ToSlash(rel)
	if fi.IsDir() {
		hdr.Name += "/"
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil
	}
	f, err := plainfile.Open(path) // a regular file, as Lstat said just now
	if err != nil {
		return err
	}
	defer f.Close()
	// A file that grows while it is archived must not overrun its header.
	if _, err := io.CopyN(tw, f, hdr.Size); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
