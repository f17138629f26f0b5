package command

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/buildslave/buildslave/internal/pytext"
)

// fsCommand is a filesystem command that is over in an instant (mkdir,
// stat, listdir, rmfile, glob): like the reference's it runs in one go and
// has nothing to interrupt.
type fsCommand struct {
	args Args
	run  func(args Args, out *Output) error
}

func (c *fsCommand) Run(_ context.Context, out *Output) error { return c.run(c.args, out) }

// Interrupt does nothing: the command ends by itself at once.
func (c *fsCommand) Interrupt(string) {}

// fsFactory makes the factory of a quick filesystem command. class is the
// reference's class name, for the missing-arguments message; StatFile and
// ListDir enforce no arguments there (a typo in the reference), so their
// path is checked when they run, which fails the command just the same.
func fsFactory(class string, required []string, run func(Args, *Output) error) Factory {
	return func(args Args, _ *Environment) (Command, error) {
		if err := requireArgs(class, args, required...); err != nil {
			return nil, err
		}
		return &fsCommand{args: args, run: run}, nil
	}
}

// pathArg reads the single absolute path of a filesystem command.
func pathArg(args Args, key string) (string, error) {
	s, ok := TextValue(args[key])
	if !ok {
		return "", fmt.Errorf("argument %q must be a path, not %s", key, pytext.TypeName(args[key]))
	}
	return s, nil
}

// pathsArg reads a list of paths; a single path is accepted as a list of one.
func pathsArg(args Args, key string) ([]string, error) {
	if s, ok := TextValue(args[key]); ok {
		return []string{s}, nil
	}
	list, ok := args[key].([]any)
	if !ok {
		return nil, fmt.Errorf("argument %q must be a list of paths, not %s", key, pytext.TypeName(args[key]))
	}
	paths := make([]string, len(list))
	for i, v := range list {
		if paths[i], ok = TextValue(v); !ok {
			return nil, fmt.Errorf("argument %q: element %d must be a path, not %s", key, i, pytext.TypeName(v))
		}
	}
	return paths, nil
}

// runMkdir creates each directory with its parents; the first failure
// ends the command (COMMANDS.md §4.1).
func runMkdir(args Args, out *Output) error {
	paths, err := pathsArg(args, "paths")
	if err != nil {
		return err
	}
	for _, p := range paths {
		if err := makeDirs(p); err != nil {
			reportOSError(out, "mkdir", p, err)
			return nil
		}
	}
	out.RC(0)
	return nil
}

// makeDirs is os.makedirs for a path that may already be a directory.
// os.MkdirAll reports an existing non-directory as "not a directory";
// Python says "File exists", which is what the master's users know.
func makeDirs(p string) error {
	if fi, err := os.Stat(p); err == nil {
		if fi.IsDir() {
			return nil
		}
		return &fs.PathError{Op: "mkdir", Path: p, Err: fs.ErrExist}
	}
	return os.MkdirAll(p, 0o777)
}

// runStat sends os.stat of the path, symlinks followed (§4.4).
func runStat(args Args, out *Output) error {
	p, err := pathArg(args, "path")
	if err != nil {
		return err
	}
	fi, err := os.Stat(p)
	if err != nil {
		reportOSError(out, "stat", p, err)
		return nil
	}
	out.Add("stat", statTuple(fi))
	out.RC(0)
	return nil
}

// runListDir sends the names in a directory (§4.6), sorted where the
// reference leaves them in directory order.
func runListDir(args Args, out *Output) error {
	p, err := pathArg(args, "path")
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		reportOSError(out, "listdir", p, err)
		return nil
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	out.Add("files", names)
	out.RC(0)
	return nil
}

// runRmFile removes one file (§4.7). os.Remove would also remove an empty
// directory, which Python's os.remove refuses; so does this.
func runRmFile(args Args, out *Output) error {
	p, err := pathArg(args, "path")
	if err != nil {
		return err
	}
	if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
		reportOSError(out, "rmfile", p, &fs.PathError{Op: "remove", Path: p, Err: syscall.EISDIR})
		return nil
	}
	if err := os.Remove(p); err != nil {
		reportOSError(out, "rmfile", p, err)
		return nil
	}
	out.RC(0)
	return nil
}
