package command

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
)

// uploadDir is uploadDirectory (COMMANDS.md §3.2): a tar archive of the
// directory, made in a temporary file first, streamed to the master's
// DirectoryWriter, which unpacks it.
type uploadDir struct {
	stopper
	args Args
	log  *slog.Logger
}

func newUploadDir(args Args, env *Environment) (Command, error) {
	if err := requireArgs("WorkerDirectoryUploadCommand", args, "path", "writer", "blocksize"); err != nil {
		return nil, err
	}
	return &uploadDir{args: args, log: env.logger()}, nil
}

func (u *uploadDir) Run(ctx context.Context, out *Output) error {
	p, err := readUploadParams(u.args)
	if err != nil {
		return err
	}
	compress, _ := TextValue(u.args["compress"])

	tmp, err := os.CreateTemp("", "buildbot-transfer-*")
	if err != nil {
		return fmt.Errorf("creating the archive of %s: %w", p.path, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	bw := bufio.NewWriterSize(tmp, 1<<16)
	err = writeTar(bw, p.path, compress)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		// As the reference since 3.10 (transfer.py, the OSError around
		// archive.add): rc 1 and why on stderr, no header, the master's
		// writer left alone; the step ends FAILURE, not EXCEPTION. A path
		// that is not a directory is answered the same way, where the
		// reference would archive the file and fail in the master's unpack.
		u.log.Info("cannot read directory for upload", "path", p.path, "err", err)
		out.RC(1)
		out.Stderr(fmt.Sprintf("Cannot read directory '%s' for upload: %s", p.path, pyOSErrorText(err)))
		return nil
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("archiving %s: %w", p.path, err)
	}

	out.Header("sending " + p.path + "\n")
	send := newBlockSender(p.writer)
	truncated, err := sendBlocks(ctx, tmp, send, p.blocksize, p.budget, &u.stopper)
	if err == nil {
		err = send.flush(ctx)
	}
	if err != nil {
		// No unpack of a partial archive: the master's step cancels the
		// writer when the command fails, which deletes it.
		out.RC(1)
		return err
	}
	if err := send.unpack()(ctx); err != nil {
		if !u.Interrupted() {
			out.RC(1)
			return fmt.Errorf("unpacking %s on the master: %w", p.path, err)
		}
		// A cut-short archive may well not unpack; the step is being
		// cancelled anyway.
		u.log.Info("unpacking an interrupted directory upload failed", "err", err)
	}
	switch {
	case truncated:
		out.RC(1)
		out.Stderr(fmt.Sprintf("Maximum filesize reached, truncating file '%s'", p.path))
	case u.Interrupted():
		out.RC(1)
	default:
		out.RC(0)
	}
	return nil
}
