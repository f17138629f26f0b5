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
	if err := writeTar(bw, p.path, compress); err != nil {
		// As with the reference, whose tarfile raises: no rc, the command
		// fails and the master shows why.
		return fmt.Errorf("archiving %s: %w", p.path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("archiving %s: %w", p.path, err)
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
