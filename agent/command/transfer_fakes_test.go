package command

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"sync"
	"testing"
)

// runCommand starts the registered command name with args through Run, as
// the agent does, and returns the sink once the command has completed.
// Commands that fail at creation fail the test.
func runCommand(t *testing.T, name string, args Args) *fakeSink {
	t.Helper()
	cmd, err := NewRegistry().New(name, args, &Environment{})
	if err != nil {
		t.Fatalf("New(%s): %v", name, err)
	}
	return runCreated(t, cmd)
}

func runCreated(t *testing.T, cmd Command) *fakeSink {
	t.Helper()
	sink := newFakeSink()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	Run(ctx, cmd, sink, nil)
	if !sink.completed {
		t.Fatal("the command did not complete")
	}
	return sink
}

// valuesOf returns the values of the updates with key.
func valuesOf(updates []Update, key string) []any {
	var v []any
	for _, u := range updates {
		if u.Key == key {
			v = append(v, u.Value)
		}
	}
	return v
}

// wantKeys checks the keys of every update sent, in order.
func wantKeys(t *testing.T, sink *fakeSink, want ...string) {
	t.Helper()
	if got := keys(sink.updates()); !slices.Equal(got, want) {
		t.Errorf("update keys %q, want %q; updates %v", got, want, sink.updates())
	}
}

func wantRC(t *testing.T, sink *fakeSink, want int) {
	t.Helper()
	rcs := valuesOf(sink.updates(), "rc")
	if len(rcs) != 1 || rcs[0] != want {
		t.Errorf("rc updates %v, want [%d]", rcs, want)
	}
}

var errMaster = errors.New("master went away")

// fakeWriter records what an upload does to the master's writer.
type fakeWriter struct {
	mu       sync.Mutex
	calls    []string // "write", "close", "utime", "unpack"
	blocks   [][]byte
	utime    [2]float64
	failAt   int          // the write number (from 1) that fails; 0 never
	onWrite  func(n int)  // called after write number n
	closeErr error        // returned by Close
	unpacked func([]byte) // receives all data at Unpack
	data     []byte
}

func (w *fakeWriter) Write(_ context.Context, data []byte) error {
	w.mu.Lock()
	w.calls = append(w.calls, "write")
	n := len(w.blocks) + 1
	w.blocks = append(w.blocks, slices.Clone(data))
	w.data = append(w.data, data...)
	hook := w.onWrite
	w.mu.Unlock()
	if n == w.failAt {
		return errMaster
	}
	if hook != nil {
		hook(n)
	}
	return nil
}

func (w *fakeWriter) Utime(_ context.Context, atime, mtime float64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, "utime")
	w.utime = [2]float64{atime, mtime}
	return nil
}

func (w *fakeWriter) Close(context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, "close")
	return w.closeErr
}

func (w *fakeWriter) Unpack(context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, "unpack")
	if w.unpacked != nil {
		w.unpacked(w.data)
	}
	return nil
}

// callsWithoutWrites is the sequence of calls other than write.
func (w *fakeWriter) callsWithoutWrites() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(w.calls), func(c string) bool { return c == "write" })
}

func (w *fakeWriter) blockSizes() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := make([]int, len(w.blocks))
	for i, b := range w.blocks {
		s[i] = len(b)
	}
	return s
}

// fakeReader serves data as the master's FileReader does.
type fakeReader struct {
	mu     sync.Mutex
	data   []byte
	reads  []int // the n of each read
	closed int
	failAt int         // the read number (from 1) that fails; 0 never
	onRead func(n int) // called after read number n
}

func (r *fakeReader) Read(_ context.Context, n int) ([]byte, error) {
	r.mu.Lock()
	r.reads = append(r.reads, n)
	count := len(r.reads)
	k := min(n, len(r.data))
	block := slices.Clone(r.data[:k])
	r.data = r.data[k:]
	hook := r.onRead
	r.mu.Unlock()
	if count == r.failAt {
		return nil, errMaster
	}
	if hook != nil {
		hook(count)
	}
	return block, nil
}

func (r *fakeReader) Close(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed++
	return nil
}

// pipeReader is a PipelinedReader over data that serves reads in the
// order they were started, as a master does, and counts the bytes asked
// for and not yet waited for: the window a download keeps in flight.
type pipeReader struct {
	mu       sync.Mutex
	data     []byte
	reads    []int // the n of each read, in order
	inFlight int   // bytes of reads started and not waited for
	maxBytes int   // the most inFlight ever was
	maxCalls int   // the most reads ever in flight at once
	calls    int   // reads in flight
	failAt   int   // the read number (from 1) whose answer is an error
	onWait   func(n int)
	closed   int
	recycled int // blocks handed back
}

func (r *pipeReader) StartRead(n int) (func(context.Context) ([]byte, error), error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads = append(r.reads, n)
	count := len(r.reads)
	k := min(n, len(r.data))
	block := slices.Clone(r.data[:k])
	r.data = r.data[k:]
	r.inFlight += n
	r.calls++
	r.maxBytes = max(r.maxBytes, r.inFlight)
	r.maxCalls = max(r.maxCalls, r.calls)
	waited := false
	return func(context.Context) ([]byte, error) {
		r.mu.Lock()
		if waited {
			r.mu.Unlock()
			panic("a read waited for twice")
		}
		waited = true
		r.inFlight -= n
		r.calls--
		hook := r.onWait
		r.mu.Unlock()
		if hook != nil {
			hook(count)
		}
		if count == r.failAt {
			return nil, errMaster
		}
		return block, nil
	}, nil
}

func (r *pipeReader) Read(ctx context.Context, n int) ([]byte, error) {
	wait, err := r.StartRead(n)
	if err != nil {
		return nil, err
	}
	return wait(ctx)
}

func (r *pipeReader) StartClose() (func(context.Context) error, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed++
	return func(context.Context) error { return nil }, nil
}

func (r *pipeReader) Close(context.Context) error {
	_, err := r.StartClose()
	return err
}

func (r *pipeReader) closeCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// pipeWriter is a PipelinedWriter that records calls in the order they
// were started and counts the bytes of writes sent but not yet answered.
type pipeWriter struct {
	fakeWriter
	inFlight int
	maxBytes int
	maxCalls int
	pending  int
	waited   int // answers read, of every kind
	// refuse is the write number (from 1) whose answer is an error.
	refuse int
}

func (w *pipeWriter) StartWrite(data []byte) (func(context.Context) error, error) {
	err := w.fakeWriter.Write(context.Background(), data) // records it; fails nothing (failAt unused)
	w.mu.Lock()
	n := len(w.blocks)
	size := len(data)
	w.inFlight += size
	w.pending++
	w.maxBytes = max(w.maxBytes, w.inFlight)
	w.maxCalls = max(w.maxCalls, w.pending)
	w.mu.Unlock()
	return func(context.Context) error {
		w.mu.Lock()
		w.inFlight -= size
		w.pending--
		w.waited++
		w.mu.Unlock()
		if n == w.refuse {
			return errMaster
		}
		return err
	}, nil
}

func (w *pipeWriter) start(call func(context.Context) error) (func(context.Context) error, error) {
	err := call(context.Background())
	return func(context.Context) error {
		w.mu.Lock()
		w.waited++
		w.mu.Unlock()
		return err
	}, nil
}

func (w *pipeWriter) StartUtime(atime, mtime float64) (func(context.Context) error, error) {
	return w.start(func(ctx context.Context) error { return w.fakeWriter.Utime(ctx, atime, mtime) })
}

func (w *pipeWriter) StartClose() (func(context.Context) error, error) {
	return w.start(w.fakeWriter.Close)
}

func (w *pipeWriter) StartUnpack() (func(context.Context) error, error) {
	return w.start(w.fakeWriter.Unpack)
}

// Recycle makes pipeReader a BlockRecycler: it checks that a block comes
// back once, after the download is done with it.
func (r *pipeReader) Recycle(block []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recycled++
	for i := range block {
		block[i] = 0xEE // a download still using the block would write this
	}
}

// fileBlockWriter is a FileBlockWriter: it reads each block from the file
// itself, as sendfile would, and otherwise behaves as pipeWriter.
type fileBlockWriter struct {
	pipeWriter
	fromFile int // blocks sent from the file
	// damage is the block number (from 1) that StartWriteFile reports
	// as sent damaged, as when the file shrank meanwhile.
	damage int
}

var errDamaged = errors.New("the file shrank while it was being sent")

func (w *fileBlockWriter) StartWriteFile(f *os.File, n int) (int, func(context.Context) error, error) {
	buf := make([]byte, n)
	k, err := io.ReadFull(f, buf)
	if k == 0 {
		if errors.Is(err, io.EOF) {
			err = nil
		}
		return 0, nil, err
	}
	wait, err := w.StartWrite(buf[:k])
	if err != nil {
		return 0, nil, err
	}
	w.mu.Lock()
	w.fromFile++
	damaged := w.fromFile == w.damage
	w.mu.Unlock()
	if damaged {
		return k, wait, errDamaged
	}
	return k, wait, nil
}
