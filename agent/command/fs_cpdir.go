package command

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// cpdir copies a directory (COMMANDS.md §4.3). The reference runs
// `cp -R -P -p -v FROM TO`; we copy natively with the same meaning: a
// directory is copied into TO, or into TO/<name of FROM> if TO is already
// a directory; symbolic links are copied as links; permission bits and
// access and modification times are kept (ownership only where the system
// lets us, i.e. never on purpose). Each copied entry is listed on stdout
// as cp -v does ("'from' -> 'to'"), problems go to stderr in cp's words,
// the copy goes on past them, and rc is 1 if any occurred. The process
// headers of the reference are not sent: there is no process.
type cpdir struct {
	stopper
	args Args
}

func newCpdir(args Args, _ *Environment) (Command, error) {
	if err := requireArgs("CopyDirectory", args, "to_path", "from_path"); err != nil {
		return nil, err
	}
	return &cpdir{args: args}, nil
}

// copier copies one tree and reports as cp -v would.
type copier struct {
	ctx    context.Context
	out    *Output
	stop   *stopper
	failed bool
	// dirTimes are the directories whose times are set once their
	// contents are in, deepest last; setting them earlier would be undone
	// by the copying itself.
	dirs []copiedDir
}

type copiedDir struct {
	path string
	info os.FileInfo
}

func (c *cpdir) Run(ctx context.Context, out *Output) error {
	from, err := pathArg(c.args, "from_path")
	if err != nil {
		return err
	}
	to, err := pathArg(c.args, "to_path")
	if err != nil {
		return err
	}
	// As the reference does before running cp.
	if parent := filepath.Dir(to); !isDir(parent) {
		if err := os.MkdirAll(parent, 0o777); err != nil {
			return fmt.Errorf("creating the parent of %s: %w", to, err)
		}
	}
	if isDir(to) {
		to = filepath.Join(to, filepath.Base(from))
	}
	cp := &copier{ctx: ctx, out: out, stop: &c.stopper}
	if inside(to, from) {
		cp.errorf("cp: cannot copy a directory, '%s', into itself, '%s'", from, to)
	} else {
		cp.copy(from, to)
	}
	cp.finishDirs()
	switch {
	case c.Interrupted():
		out.RC(-1)
	case ctx.Err() != nil:
		return ctx.Err()
	case cp.failed:
		out.RC(1)
	default:
		out.RC(0)
	}
	return nil
}

// inside reports whether to lies within the directory from.
func inside(to, from string) bool {
	a, err1 := filepath.Abs(to)
	b, err2 := filepath.Abs(from)
	if err1 != nil || err2 != nil || !isDir(from) {
		return false
	}
	return a == b || strings.HasPrefix(a, b+string(filepath.Separator))
}

func (cp *copier) errorf(format string, a ...any) {
	cp.failed = true
	cp.out.Stderr(fmt.Sprintf(format, a...) + "\n")
}

// errText is the strerror part of a message.
func errText(err error) string {
	_, text := errnoOf(err)
	return text
}

func (cp *copier) copy(from, to string) {
	if cp.stop.shouldStop() || cp.ctx.Err() != nil {
		return
	}
	fi, err := os.Lstat(from)
	if err != nil {
		cp.errorf("cp: cannot stat '%s': %s", from, errText(err))
		return
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		cp.copyLink(from, to)
	case fi.IsDir():
		cp.copyDir(from, to, fi)
	case fi.Mode().IsRegular():
		cp.copyFile(from, to, fi)
	default:
		cp.errorf("cp: cannot copy special file '%s'", from)
	}
}

func (cp *copier) copied(from, to string) {
	cp.out.Stdout(fmt.Sprintf("'%s' -> '%s'\n", from, to))
}

func (cp *copier) copyLink(from, to string) {
	target, err := os.Readlink(from)
	if err != nil {
		cp.errorf("cp: cannot read symbolic link '%s': %s", from, errText(err))
		return
	}
	if fi, err := os.Lstat(to); err == nil && !fi.IsDir() {
		_ = os.Remove(to) // cp replaces what is in the way
	}
	if err := os.Symlink(target, to); err != nil {
		cp.errorf("cp: cannot create symbolic link '%s': %s", to, errText(err))
		return
	}
	cp.copied(from, to)
}

func (cp *copier) copyDir(from, to string, fi os.FileInfo) {
	if !isDir(to) {
		// Owner-writable until the contents are in; the real mode is set
		// in finishDirs.
		if err := os.Mkdir(to, 0o700); err != nil {
			cp.errorf("cp: cannot create directory '%s': %s", to, errText(err))
			return
		}
	}
	cp.copied(from, to)
	cp.dirs = append(cp.dirs, copiedDir{path: to, info: fi})
	entries, err := os.ReadDir(from)
	if err != nil {
		cp.errorf("cp: cannot access '%s': %s", from, errText(err))
		return
	}
	for _, e := range entries {
		cp.copy(filepath.Join(from, e.Name()), filepath.Join(to, e.Name()))
	}
}

func (cp *copier) copyFile(from, to string, fi os.FileInfo) {
	src, err := os.Open(from)
	if err != nil {
		cp.errorf("cp: cannot open '%s' for reading: %s", from, errText(err))
		return
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		cp.errorf("cp: cannot create regular file '%s': %s", to, errText(err))
		return
	}
	_, err = io.Copy(dst, src)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cp.errorf("cp: error copying '%s' to '%s': %s", from, to, errText(err))
		return
	}
	cp.preserve(to, fi)
	cp.copied(from, to)
}

// preserve gives to the permission bits and times of the original.
func (cp *copier) preserve(to string, fi os.FileInfo) {
	if err := os.Chmod(to, fi.Mode().Perm()|fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
		cp.errorf("cp: preserving permissions for '%s': %s", to, errText(err))
	}
	atime, mtime := fileTimes(fi)
	if err := os.Chtimes(to, floatTime(atime), floatTime(mtime)); err != nil {
		cp.errorf("cp: preserving times for '%s': %s", to, errText(err))
	}
}

// finishDirs sets the modes and times of the copied directories, the
// deepest first so that a parent's times are not changed afterwards.
func (cp *copier) finishDirs() {
	for i := len(cp.dirs) - 1; i >= 0; i-- {
		cp.preserve(cp.dirs[i].path, cp.dirs[i].info)
	}
}

func floatTime(sec float64) time.Time {
	whole := int64(sec)
	return time.Unix(whole, int64((sec-float64(whole))*1e9))
}
