package command

import (
	"context"
	"fmt"
	"os"
)

// Over a PipelinedReader or PipelinedWriter a transfer keeps calls in
// flight instead of waiting a round trip for each block: up to
// transferWindow bytes of reads asked for or of writes sent but not yet
// answered, in blocks of transferBlock bytes (or the step's blocksize if
// that is larger; always below banana's string limit, maxBlockSize). The
// window bounds the memory a transfer holds and the data in flight when
// something fails. make bench chose both, at one-way delays of 0 and
// 25 ms: windows of 2 and 4 MiB left a 50 ms round trip the bottleneck
// (32 MiB downloads took 1.4 and 0.8 s), 8 MiB did not (0.65 s), 16 MiB
// gained nothing and held more memory; 64 KiB blocks cost the master
// too many calls, 640 KiB ones no less time than 256 KiB but more memory.
const (
	transferWindow = 8 << 20
	transferBlock  = 256 << 10
)

// pipelinedBlockSize is the block size of a pipelined transfer whose step
// asked for blocksize.
func pipelinedBlockSize(blocksize int) int {
	return min(max(blocksize, transferBlock), maxBlockSize)
}

// window is the FIFO of a transfer's calls in flight, bounded in bytes:
// push a call only when room says so, pop answers oldest first.
type window[T any] struct {
	limit int // bytes
	bytes int // in flight
	calls []windowCall[T]
}

type windowCall[T any] struct {
	size int
	wait func(context.Context) (T, error)
}

// room reports whether a call of size bytes fits; an empty window takes
// any call, so that a block larger than the limit still moves.
func (w *window[T]) room(size int) bool {
	return len(w.calls) == 0 || w.bytes+size <= w.limit
}

func (w *window[T]) push(size int, wait func(context.Context) (T, error)) {
	w.calls = append(w.calls, windowCall[T]{size: size, wait: wait})
	w.bytes += size
}

func (w *window[T]) empty() bool { return len(w.calls) == 0 }

// pop waits for the oldest call's answer and returns it with the call's
// size.
func (w *window[T]) pop(ctx context.Context) (T, int, error) {
	c := w.calls[0]
	w.calls[0] = windowCall[T]{}
	w.calls = w.calls[1:]
	w.bytes -= c.size
	v, err := c.wait(ctx)
	return v, c.size, err
}

// blockSender sends an upload's blocks and then its closing calls. Over a
// PipelinedWriter the writes stay in flight within transferWindow and the
// closing calls that follow one another (close, utime) do not wait for
// each other; otherwise every call waits for its answer. The closing
// calls go out only once every write is answered (flush): the master
// serves what it receives in order, and a close behind a refused write
// would make it keep the partial file as if it were whole.
//
// Over a FileBlockWriter, blocks of a file go from the file to the
// connection without the worker reading them (writeFile).
type blockSender struct {
	w   FileWriter
	pw  PipelinedWriter // nil when w cannot pipeline
	fw  FileBlockWriter // nil when w cannot send from a file
	win window[struct{}]
}

func newBlockSender(w FileWriter) *blockSender {
	s := &blockSender{w: w, win: window[struct{}]{limit: transferWindow}}
	s.pw, _ = w.(PipelinedWriter)
	s.fw, _ = w.(FileBlockWriter)
	return s
}

// blockSize is the size of the blocks to send for a step's blocksize.
func (s *blockSender) blockSize(blocksize int) int {
	if s.pw == nil {
		return blocksize
	}
	return pipelinedBlockSize(blocksize)
}

// write sends one block. Over a PipelinedWriter it waits only for room in
// the window, and fails with the first refused write it sees answered.
func (s *blockSender) write(ctx context.Context, data []byte) error {
	if s.pw == nil {
		return s.w.Write(ctx, data)
	}
	for !s.win.room(len(data)) {
		if _, _, err := s.win.pop(ctx); err != nil {
			return err
		}
	}
	wait, err := s.pw.StartWrite(data)
	if err != nil {
		return err
	}
	s.win.push(len(data), noValue(wait))
	return nil
}

// writeFile sends the next block of f, at most n bytes, as write does,
// and returns its size: 0 at the end of the file. Only with s.fw set.
func (s *blockSender) writeFile(ctx context.Context, f *os.File, n int) (int, error) {
	for !s.win.room(n) {
		if _, _, err := s.win.pop(ctx); err != nil {
			return 0, err
		}
	}
	k, wait, err := s.fw.StartWriteFile(f, n)
	if wait != nil {
		s.win.push(k, noValue(wait))
	}
	return k, err
}

// flush waits for the answers to every write in flight and returns the
// first failure.
func (s *blockSender) flush(ctx context.Context) error {
	for !s.win.empty() {
		if _, _, err := s.win.pop(ctx); err != nil {
			return fmt.Errorf("sending a block to the master: %w", err)
		}
	}
	return nil
}

// The closing calls, made after flush: each is sent (over a
// PipelinedWriter at once, otherwise when waited for) and returns the
// function that waits for its answer.

func (s *blockSender) close() func(context.Context) error {
	if s.pw == nil {
		return s.w.Close
	}
	return started(s.pw.StartClose())
}

func (s *blockSender) utime(atime, mtime float64) func(context.Context) error {
	if s.pw == nil {
		return func(ctx context.Context) error { return s.w.Utime(ctx, atime, mtime) }
	}
	return started(s.pw.StartUtime(atime, mtime))
}

func (s *blockSender) unpack() func(context.Context) error {
	if s.pw == nil {
		return s.w.Unpack
	}
	return started(s.pw.StartUnpack())
}

// started turns a call that could not even be sent into a wait that
// reports why.
func started(wait func(context.Context) error, err error) func(context.Context) error {
	if err != nil {
		return func(context.Context) error { return err }
	}
	return wait
}

func noValue(wait func(context.Context) error) func(context.Context) (struct{}, error) {
	return func(ctx context.Context) (struct{}, error) { return struct{}{}, wait(ctx) }
}
