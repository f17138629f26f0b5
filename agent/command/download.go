package command

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/buildslave/buildslave/internal/pytext"
)

// download is downloadFile (COMMANDS.md §3.3): it fetches a file from the
// master's FileReader.
//
// Unlike the reference, which writes into the destination as the blocks
// arrive, the data goes to a new file beside it that is renamed into place
// only once the whole file is in: a download that is cut short (master
// gone, maxsize reached, interrupt, full disk) leaves whatever was there
// before, never a partial file that a later step would take for the real
// one. A file that already exists keeps its permission bits unless mode
// says otherwise, as when the reference overwrites it in place.
type download struct {
	stopper
	args    Args
	log     *slog.Logger
	basedir string // where the temporary file is recorded (see leftovers.go)
}

func newDownload(args Args, env *Environment) (Command, error) {
	if err := requireArgs("WorkerFileDownloadCommand", args, "path", "reader", "blocksize"); err != nil {
		return nil, err
	}
	return &download{args: args, log: env.logger(), basedir: env.Basedir}, nil
}

type downloadParams struct {
	path      string
	reader    FileReader
	blocksize int
	budget    budget
	mode      fs.FileMode
	hasMode   bool
}

func readDownloadParams(args Args) (downloadParams, error) {
	var p downloadParams
	var ok bool
	if p.path, ok = TextValue(args["path"]); !ok {
		return p, fmt.Errorf("argument \"path\" must be text, not %s", pytext.TypeName(args["path"]))
	}
	if p.reader, ok = args["reader"].(FileReader); !ok {
		return p, fmt.Errorf("argument \"reader\" must be the master's file reader, not %s", pytext.TypeName(args["reader"]))
	}
	var err error
	if p.blocksize, err = blockSizeArg(args); err != nil {
		return p, err
	}
	if p.budget, err = budgetArg(args); err != nil {
		return p, err
	}
	mode, hasMode, err := intArg(args, "mode")
	if err != nil {
		return p, err
	}
	p.mode, p.hasMode = fileModeOf(mode), hasMode
	return p, nil
}

// fileModeOf turns Unix permission bits, as the master sends them, into
// an fs.FileMode.
func fileModeOf(unix int64) fs.FileMode {
	m := fs.FileMode(unix & 0o777)
	if unix&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if unix&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if unix&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

func (d *download) Run(ctx context.Context, out *Output) error {
	p, err := readDownloadParams(d.args)
	if err != nil {
		return err
	}
	dir := filepath.Dir(p.path)
	if _, err := os.Stat(dir); err != nil {
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return fmt.Errorf("creating the directory of %s: %w", p.path, err)
		}
	}

	cannotOpen := fmt.Sprintf("Cannot open file '%s' for download", p.path)
	tmp, release, err := d.createTemp(p)
	if err != nil {
		d.log.Info("cannot open file for download", "path", p.path, "err", err)
		d.closeReader(ctx, p.reader)
		out.RC(1)
		out.Stderr(cannotOpen)
		return nil
	}
	renamed := false
	defer func() {
		// Every way out but the rename, a panic included, removes it.
		if !renamed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
		release()
	}()
	truncated, loopErr := d.receive(ctx, tmp, p)
	d.closeReader(ctx, p.reader)
	if err := tmp.Close(); err != nil && loopErr == nil {
		loopErr = fmt.Errorf("writing %s: %w", p.path, err)
	}

	complete := loopErr == nil && !truncated && !d.Interrupted()
	var stderr string
	if complete {
		if err := os.Rename(tmp.Name(), p.path); err != nil {
			d.log.Info("cannot move the downloaded file into place", "path", p.path, "err", err)
			complete, stderr = false, cannotOpen
		} else {
			renamed = true
		}
	}
	if truncated {
		stderr = fmt.Sprintf("Maximum filesize reached, truncating file '%s'", p.path)
	}
	if loopErr != nil {
		out.RC(1)
		return loopErr
	}
	if complete {
		out.RC(0)
	} else {
		out.RC(1)
	}
	if stderr != "" {
		out.Stderr(stderr)
	}
	return nil
}

// createTemp creates the file the data goes to, beside the destination so
// that the final rename stays within one filesystem. It is created with
// the permissions the destination would get: mode if given, else those of
// the file it replaces, else the umask's. Its name is recorded before it
// exists, so that a worker killed during the download has the next start
// remove it (release drops the record; see leftovers.go); the name, hidden
// and ending in ".buildslave-" and base-36 digits, is one no user picks.
func (d *download) createTemp(p downloadParams) (f *os.File, release func(), err error) {
	if fi, err := os.Stat(p.path); err == nil && fi.IsDir() {
		return nil, nil, &fs.PathError{Op: "open", Path: p.path, Err: fs.ErrExist}
	}
	return d.openTemp(p)
}

func (d *download) openTemp(p downloadParams) (*os.File, func(), error) {
	abs, err := filepath.Abs(p.path)
	if err != nil {
		return nil, nil, err
	}
	dir, base := filepath.Split(abs)
	for range 100 {
		name := filepath.Join(dir, "."+base+".buildslave-"+strconv.FormatUint(rand.Uint64(), 36))
		release := recordLeftover(d.basedir, leftover{Kind: "partial", Path: name}, d.log)
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if os.IsExist(err) {
			release()
			continue
		}
		if err != nil {
			release()
			return nil, nil, err
		}
		mode, chmod := p.mode, p.hasMode
		if !chmod {
			if fi, err := os.Stat(p.path); err == nil {
				mode, chmod = fi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky), true
			}
		}
		if chmod {
			if err := f.Chmod(mode); err != nil {
				f.Close()
				os.Remove(name)
				release()
				return nil, nil, err
			}
		}
		return f, release, nil
	}
	return nil, nil, fmt.Errorf("no free temporary name beside %s", p.path)
}

// receive reads blocks from the master into f within the budget, stopping
// early on an interrupt, and reports whether the budget cut the file short.
// As for uploads, a file of exactly maxsize bytes is not called truncated:
// one more byte is asked for to see whether anything was left out.
func (d *download) receive(ctx context.Context, f *os.File, p downloadParams) (truncated bool, err error) {
	if r, ok := p.reader.(PipelinedReader); ok {
		return d.receivePipelined(ctx, f, p, r)
	}
	for !d.shouldStop() {
		n := p.budget.next(p.blocksize)
		if n == 0 {
			more, err := p.reader.Read(ctx, 1)
			if err != nil {
				return false, fmt.Errorf("reading from the master: %w", err)
			}
			return len(more) > 0, nil
		}
		data, err := p.reader.Read(ctx, n)
		if err != nil {
			return false, fmt.Errorf("reading from the master: %w", err)
		}
		if len(data) == 0 {
			return false, nil
		}
		// A master sending more than asked for would overrun maxsize.
		data = data[:min(len(data), n)]
		if _, err := f.Write(data); err != nil {
			return false, fmt.Errorf("writing %s: %w", p.path, err)
		}
		p.budget.spend(len(data))
	}
	return false, nil
}

// receivePipelined is receive over a PipelinedReader: it keeps reads of
// pipelinedBlockSize bytes in flight within transferWindow (and within
// the budget) and writes each block as it arrives, until a read comes
// back empty. Once the budget is all asked for, a read of one byte more
// goes out behind the others to tell a file of exactly maxsize bytes from
// a longer one.
func (d *download) receivePipelined(ctx context.Context, f *os.File, p downloadParams, r PipelinedReader) (truncated bool, err error) {
	size := pipelinedBlockSize(p.blocksize)
	win := window[[]byte]{limit: transferWindow}
	recycler, _ := r.(BlockRecycler)
	eof, probing := false, false
	for {
		for !eof && !probing && win.room(size) && !d.shouldStop() {
			asked := p.budget
			asked.spend(win.bytes)
			n := asked.next(size)
			if n == 0 {
				n, probing = 1, true
			}
			wait, err := r.StartRead(n)
			if err != nil {
				return false, fmt.Errorf("reading from the master: %w", err)
			}
			win.push(n, wait)
		}
		if win.empty() || d.shouldStop() {
			// Reads still in flight are abandoned; the reader's close
			// goes out behind them.
			return false, nil
		}
		data, n, err := win.pop(ctx)
		if err != nil {
			return false, fmt.Errorf("reading from the master: %w", err)
		}
		if probing && win.empty() && p.budget.exhausted() {
			return len(data) > 0, nil
		}
		if probing && win.empty() {
			// A short answer before the end left budget over: the probe
			// carried data that counts; ask on.
			probing = false
		}
		if len(data) == 0 {
			eof = true
			continue
		}
		// A master sending more than asked for would overrun maxsize.
		data = data[:min(len(data), n)]
		if _, err := f.Write(data); err != nil {
			return false, fmt.Errorf("writing %s: %w", p.path, err)
		}
		p.budget.spend(len(data))
		if recycler != nil {
			recycler.Recycle(data)
		}
	}
}

// closeReader releases the master's file; like the reference we only log
// a failure, the data has been dealt with. Over a PipelinedReader the
// close is not waited for: it reaches the master before the step's
// result, and its answer only matters to the log.
func (d *download) closeReader(ctx context.Context, r FileReader) {
	if pr, ok := r.(PipelinedReader); ok {
		wait, err := pr.StartClose()
		if err != nil {
			d.log.Info("closing the master's file reader failed", "err", err)
			return
		}
		go func() {
			if err := wait(context.WithoutCancel(ctx)); err != nil {
				d.log.Info("closing the master's file reader failed", "err", err)
			}
		}()
		return
	}
	if err := r.Close(ctx); err != nil {
		d.log.Info("closing the master's file reader failed", "err", err)
	}
}
