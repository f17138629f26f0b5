package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"syscall"

	"github.com/buildslave/buildslave/internal/pytext"
)

// upload is uploadFile (COMMANDS.md §3.1): it streams one file to the
// master's FileWriter.
type upload struct {
	stopper
	args Args
	log  *slog.Logger
}

func newUpload(args Args, env *Environment) (Command, error) {
	if err := requireArgs("WorkerFileUploadCommand", args, "path", "writer", "blocksize"); err != nil {
		return nil, err
	}
	return &upload{args: args, log: env.logger()}, nil
}

// uploadParams are the arguments both uploads share.
type uploadParams struct {
	path      string
	writer    FileWriter
	blocksize int
	budget    budget
}

func readUploadParams(args Args) (uploadParams, error) {
	var p uploadParams
	var ok bool
	if p.path, ok = TextValue(args["path"]); !ok {
		return p, fmt.Errorf("argument \"path\" must be text, not %s", pytext.TypeName(args["path"]))
	}
	if p.writer, ok = args["writer"].(FileWriter); !ok {
		return p, fmt.Errorf("argument \"writer\" must be the master's file writer, not %s", pytext.TypeName(args["writer"]))
	}
	var err error
	if p.blocksize, err = blockSizeArg(args); err != nil {
		return p, err
	}
	if p.budget, err = budgetArg(args); err != nil {
		return p, err
	}
	return p, nil
}

func (u *upload) Run(ctx context.Context, out *Output) error {
	p, err := readUploadParams(u.args)
	if err != nil {
		return err
	}
	keepstamp := boolArg(u.args, "keepstamp", false)

	// As the reference does, a file that cannot be opened is not an error
	// of the command: the master gets an empty, closed file, rc 1 and why.
	var stderr string
	rc := 0
	f, atime, mtime, err := openForUpload(p.path, keepstamp)
	if err != nil {
		u.log.Info("cannot open file for upload", "path", p.path, "err", err)
		stderr = fmt.Sprintf("Cannot open file '%s' for upload", p.path)
		rc = 1
	}
	opened := f != nil
	out.Header("sending " + p.path + "\n")

	send := newBlockSender(p.writer)
	var sendErr error
	if opened {
		var truncated bool
		truncated, sendErr = sendBlocks(ctx, f, send, p.blocksize, p.budget, &u.stopper)
		f.Close()
		if truncated {
			stderr = fmt.Sprintf("Maximum filesize reached, truncating file '%s'", p.path)
			rc = 1
		}
		if u.Interrupted() {
			rc = 1
		}
	}

	if sendErr == nil {
		sendErr = send.flush(ctx)
	}
	if sendErr != nil {
		// Unlike the reference, the writer is not closed: the master's
		// close would rename the partial file into place as if it were
		// whole. Left open, the master's step cancels it when the command
		// fails, which closes the file and deletes it.
		out.RC(1)
		return sendErr
	}
	// Every write is answered: close, and utime behind it without waiting.
	closed := send.close()
	var stamped func(context.Context) error
	if keepstamp && opened {
		stamped = send.utime(atime, mtime)
	}
	err = closed(ctx)
	if stamped != nil {
		if serr := stamped(ctx); err == nil {
			err = serr
		}
	}
	if err != nil {
		out.RC(1)
		return fmt.Errorf("finishing the upload of %s: %w", p.path, err)
	}
	out.RC(rc)
	if stderr != "" {
		out.Stderr(stderr)
	}
	return nil
}

// openForUpload opens a file to upload and, for keepstamp, reads its
// access and modification times. Python's open refuses a directory,
// os.Open does not; a directory must get the same "Cannot open" answer,
// not a read error halfway.
func openForUpload(path string, keepstamp bool) (f *os.File, atime, mtime float64, err error) {
	if f, err = os.Open(path); err != nil {
		return nil, 0, 0, err
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
	case fi.IsDir():
		err = &fs.PathError{Op: "open", Path: path, Err: syscall.EISDIR}
	default:
		if keepstamp {
			atime, mtime = fileTimes(fi)
		}
		return f, atime, mtime, nil
	}
	f.Close()
	return nil, 0, 0, err
}

// sendBlocks copies r to s in blocks of up to s.blockSize(blocksize)
// bytes within the budget, stopping early on an interrupt. It reports
// whether the budget cut the data short. Over a PipelinedWriter the last
// writes may still be in flight when it returns: s.flush waits for them.
//
// Unlike the reference, data of exactly the budget's size is not called
// truncated: when the budget is spent, one more byte is read to see
// whether anything was actually left out.
func sendBlocks(ctx context.Context, r io.Reader, s *blockSender, blocksize int, b budget, stop *stopper) (truncated bool, err error) {
	blocksize = s.blockSize(blocksize)
	if f, ok := r.(*os.File); ok && s.fw != nil {
		return sendFileBlocks(ctx, f, s, blocksize, b, stop)
	}
	buf := make([]byte, blocksize)
	for !stop.shouldStop() {
		n := b.next(blocksize)
		if n == 0 {
			return moreLeft(r)
		}
		k, rerr := io.ReadFull(r, buf[:n])
		if k > 0 {
			if err := s.write(ctx, buf[:k]); err != nil {
				return false, fmt.Errorf("sending a block to the master: %w", err)
			}
			b.spend(k)
		}
		switch {
		case errors.Is(rerr, io.EOF), errors.Is(rerr, io.ErrUnexpectedEOF):
			return false, nil
		case rerr != nil:
			return false, fmt.Errorf("reading: %w", rerr)
		}
	}
	return false, nil
}

// sendFileBlocks is sendBlocks for a file and a writer that sends blocks
// straight from it: the worker never reads them into memory.
func sendFileBlocks(ctx context.Context, f *os.File, s *blockSender, blocksize int, b budget, stop *stopper) (truncated bool, err error) {
	for !stop.shouldStop() {
		n := b.next(blocksize)
		if n == 0 {
			return moreLeft(f)
		}
		k, err := s.writeFile(ctx, f, n)
		if err != nil {
			return false, fmt.Errorf("sending a block to the master: %w", err)
		}
		if k == 0 {
			return false, nil
		}
		b.spend(k)
	}
	return false, nil
}

// moreLeft reads one byte of r, once the budget is spent, to tell whether
// the budget cut the data short.
func moreLeft(r io.Reader) (bool, error) {
	var one [1]byte
	k, err := io.ReadFull(r, one[:])
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("reading: %w", err)
	}
	return k > 0, nil
}
