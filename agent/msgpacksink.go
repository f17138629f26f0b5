package agent

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/buildslave/buildslave/agent/command"
	"github.com/buildslave/buildslave/protocol/msgpack"
)

// msgpackSink sends one command's updates as msgpack requests keyed by its
// command_id: one update message per buffer flush, as the reference does,
// pipelined (the session's window bounds what awaits an answer), then
// complete.
type msgpackSink struct {
	ms  *msgpack.Session
	id  string
	log *slog.Logger

	mu      sync.Mutex
	pending []*msgpack.Pending // updates sent, their answers not yet looked at
}

func (s *msgpackSink) fields(extra ...msgpack.Pair) msgpack.Map {
	return append(msgpack.Map{{Key: "command_id", Value: s.id}}, extra...)
}

func (s *msgpackSink) SendUpdates(ctx context.Context, updates []command.Update) error {
	now := float64(time.Now().UnixNano()) / 1e9
	pairs := make([]any, 0, len(updates))
	for _, u := range updates {
		pairs = append(pairs, []any{u.Key, msgpackKeyedValue(u, now)})
	}
	p, err := s.ms.Send(ctx, "update", s.fields(msgpack.Pair{Key: "args", Value: pairs}))
	if err != nil {
		return fmt.Errorf("sending an update: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = append(s.pending, p)
	return s.reapLocked()
}

// reapLocked forgets the updates already answered, returning the first
// refusal among them.
func (s *msgpackSink) reapLocked() error {
	var first error
	keep := s.pending[:0]
	for _, p := range s.pending {
		select {
		case <-p.Done():
			if _, err := p.Wait(context.Background()); err != nil && first == nil {
				first = fmt.Errorf("sending an update: %w", err)
			}
		default:
			keep = append(keep, p)
		}
	}
	clear(s.pending[len(keep):])
	s.pending = keep
	return first
}

func (s *msgpackSink) Complete(ctx context.Context, failure error) error {
	var arg any
	if failure != nil {
		arg = pythonException(failure).failureText()
	}
	p, err := s.ms.Send(ctx, "complete", s.fields(msgpack.Pair{Key: "args", Value: arg}))
	if err != nil {
		return fmt.Errorf("sending complete: %w", err)
	}
	s.mu.Lock()
	pending := s.pending
	s.pending = nil
	s.mu.Unlock()
	for _, u := range pending {
		if _, err := u.Wait(ctx); err != nil {
			s.log.Warn("an update failed", "err", err)
		}
	}
	if _, err := p.Wait(ctx); err != nil {
		return fmt.Errorf("sending complete: %w", err)
	}
	return nil
}

// call is one worker request about this command, waited for.
func (s *msgpackSink) call(ctx context.Context, op string, extra ...msgpack.Pair) (any, error) {
	return s.ms.Call(ctx, op, s.fields(extra...))
}

// msgpackUpdateValue maps the neutral update values to what the master
// expects (MSGPACK.md §3.4): text as [text, newline offsets, timestamps],
// a log as [name, that], a stat as ten ints. The master reads only the
// text; the timestamps are the time of the flush, not of each line.
func msgpackUpdateValue(v any, now float64) any {
	switch x := v.(type) {
	case string:
		return textValue(x, now)
	case command.LogText:
		return []any{x.Name, textValue(x.Text, now)}
	case command.Stat:
		out := make([]any, len(x))
		for i, n := range x {
			out[i] = n
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case int:
		return int64(x)
	}
	return v
}

// textValue is a log chunk as the master takes it: the text, the offset
// of each newline and each line's time. Typed slices, not []any: a log
// chunk has thousands of lines, and boxing each number cost more than
// encoding it.
func textValue(text string, now float64) []any {
	n := strings.Count(text, "\n")
	offsets := make([]int64, 0, n)
	times := make([]float64, n)
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			offsets = append(offsets, int64(i))
		}
	}
	for i := range times {
		times[i] = now
	}
	return []any{text, offsets, times}
}

// The master serves a connection's requests in the order they arrive: it
// handles each message as it reads it, and its FileWriter's write, utime
// and close, its DirectoryWriter's unpack and its FileReader's read are
// synchronous (master/buildbot/worker/protocols/manager/msgpack.py,
// 3.7 and 4.3). So the writer and the reader pipeline, as over PB:
// command.PipelinedWriter and PipelinedReader. The blocks stay well below
// what either side reads in one message (the master sets no limit, the
// session's MaxMessageSize is 64 MiB).

// start sends one request about this command without waiting for its
// answer, and returns the function that waits for it. The send waits only
// for a slot in the session's window of requests awaiting an answer,
// which the master frees as it answers or the session's end frees.
func (s *msgpackSink) start(op string, extra ...msgpack.Pair) (*msgpack.Pending, error) {
	return s.ms.Send(context.Background(), op, s.fields(extra...))
}

// started is a request's wait when only its success matters.
func started(p *msgpack.Pending, err error) (func(context.Context) error, error) {
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		_, err := p.Wait(ctx)
		return err
	}, nil
}

// msgpackWriter is the master's file or directory writer of an upload.
type msgpackWriter struct {
	sink *msgpackSink
	dir  bool
}

func (w *msgpackWriter) writeOp() string {
	if w.dir {
		return "update_upload_directory_write"
	}
	return "update_upload_file_write"
}

func (w *msgpackWriter) Write(ctx context.Context, data []byte) error {
	_, err := w.sink.call(ctx, w.writeOp(), msgpack.Pair{Key: "args", Value: data})
	return err
}

// StartWrite sends data at once: the session encodes it before Send
// returns, so the caller may reuse it.
func (w *msgpackWriter) StartWrite(data []byte) (func(context.Context) error, error) {
	return started(w.sink.start(w.writeOp(), msgpack.Pair{Key: "args", Value: data}))
}

func utimeFields(atime, mtime float64) []msgpack.Pair {
	return []msgpack.Pair{{Key: "access_time", Value: atime}, {Key: "modified_time", Value: mtime}}
}

// Utime: the 3.7 and 4.3 masters answer it with an exception (they call
// their writer's remote_utime with the key names instead of the times;
// MSGPACK.md §3.3), which fails a keepstamp upload there, as it does the
// reference's.
func (w *msgpackWriter) Utime(ctx context.Context, atime, mtime float64) error {
	_, err := w.sink.call(ctx, "update_upload_file_utime", utimeFields(atime, mtime)...)
	return err
}

func (w *msgpackWriter) StartUtime(atime, mtime float64) (func(context.Context) error, error) {
	return started(w.sink.start("update_upload_file_utime", utimeFields(atime, mtime)...))
}

func (w *msgpackWriter) Close(ctx context.Context) error {
	if w.dir {
		// A directory writer is closed by its unpack.
		return nil
	}
	_, err := w.sink.call(ctx, "update_upload_file_close")
	return err
}

func (w *msgpackWriter) StartClose() (func(context.Context) error, error) {
	if w.dir {
		return func(context.Context) error { return nil }, nil
	}
	return started(w.sink.start("update_upload_file_close"))
}

func (w *msgpackWriter) Unpack(ctx context.Context) error {
	_, err := w.sink.call(ctx, "update_upload_directory_unpack")
	return err
}

func (w *msgpackWriter) StartUnpack() (func(context.Context) error, error) {
	return started(w.sink.start("update_upload_directory_unpack"))
}

// msgpackReader is the master's file reader of a download. Masters 3.7 and
// 4.3 discard the data they read (MSGPACK.md §3.3) and answer nil, which
// reads as the end of the file: the download arrives empty, as it does on
// the reference. A master that answers with the data, as the op means,
// gets a pipelined download.
type msgpackReader struct{ sink *msgpackSink }

func (r *msgpackReader) Read(ctx context.Context, n int) ([]byte, error) {
	return readBlock(r.sink.call(ctx, "update_read_file", readLength(n)))
}

func (r *msgpackReader) StartRead(n int) (func(context.Context) ([]byte, error), error) {
	p, err := r.sink.start("update_read_file", readLength(n))
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) ([]byte, error) { return readBlock(p.Wait(ctx)) }, nil
}

func readLength(n int) msgpack.Pair { return msgpack.Pair{Key: "length", Value: int64(n)} }

func (r *msgpackReader) Close(ctx context.Context) error {
	_, err := r.sink.call(ctx, "update_read_file_close")
	return err
}

func (r *msgpackReader) StartClose() (func(context.Context) error, error) {
	return started(r.sink.start("update_read_file_close"))
}

// The transfer adapters' contracts, checked by the compiler.
var (
	_ command.PipelinedWriter = (*msgpackWriter)(nil)
	_ command.PipelinedReader = (*msgpackReader)(nil)
)
