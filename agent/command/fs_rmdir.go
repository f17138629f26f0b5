package command

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// rmdir removes directories or files with everything in them (COMMANDS.md
// §4.2). The reference runs `rm -rf` for each path and, if that fails,
// `chmod -Rf u+rwx` and `rm -rf` again, sending the processes' headers. We
// do the same natively: no process, so no process headers either. Like
// mkdir and rmfile, a success sends only rc 0; a path that cannot be
// removed gets a header line "rmdir: <strerror>: <path>" (the path that
// failed, possibly inside the tree) and its errno as rc, and removal goes
// on with the next path. The line ends in a newline because several paths
// may fail and their lines must not run together. A missing path is a
// success, as with rm -f. timeout and maxTime are not used: without a
// process there is nothing that could hang.
type rmdir struct {
	stopper
	args Args
}

func newRmdir(args Args, _ *Environment) (Command, error) {
	if err := requireArgs("RemoveDirectory", args, "paths"); err != nil {
		return nil, err
	}
	return &rmdir{args: args}, nil
}

func (c *rmdir) Run(ctx context.Context, out *Output) error {
	paths, err := pathsArg(c.args, "paths")
	if err != nil {
		return err
	}
	rc := 0
	for _, p := range paths {
		if c.shouldStop() {
			out.RC(-1)
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := removeTree(p); err != nil {
			errno, text := errnoOf(err)
			out.Header("rmdir: " + text + ": " + failedPath(err, p) + "\n")
			rc = errno
		}
	}
	out.RC(rc)
	return nil
}

// removeTree removes p and everything below it, making read-only
// directories and files writable if that is what stands in the way.
func removeTree(p string) error {
	if err := removeAll(p); err == nil {
		return nil
	}
	makeWritable(p)
	return removeAll(p)
}

// makeWritable gives the owner full access to everything below p, as
// `chmod -Rf u+rwx` does: a directory must be readable to be listed and
// writable to lose its entries (and on Windows a read-only file cannot be
// deleted). Symbolic links are left alone: chmod would follow them out of
// the tree. Errors are ignored; the second removal reports what is left.
func makeWritable(p string) {
	_ = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if d == nil || d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		if info, ierr := d.Info(); ierr == nil {
			_ = os.Chmod(path, info.Mode().Perm()|0o700)
		}
		if err != nil && d.IsDir() {
			// The directory could not be read before its chmod; walk it
			// again now that it may be readable.
			makeWritableBelow(path)
		}
		return nil
	})
}

// makeWritableBelow retries the walk of one directory once.
func makeWritableBelow(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		makeWritable(filepath.Join(dir, e.Name()))
	}
}

// failedPath is the path an error names, or p.
func failedPath(err error, p string) string {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path != "" {
		return pe.Path
	}
	return p
}
