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

func textValue(text string, now float64) []any {
	offsets := make([]any, 0, strings.Count(text, "\n"))
	times := make([]any, 0, cap(offsets))
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			offsets = append(offsets, int64(i))
			times = append(times, now)
		}
	}
	return []any{text, offsets, times}
}

// msgpackWriter is the master's file or directory writer of an upload.
type msgpackWriter struct {
	sink *msgpackSink
	dir  bool
}

func (w *msgpackWriter) Write(ctx context.Context, data []byte) error {
	op := "update_upload_file_write"
	if w.dir {
		op = "update_upload_directory_write"
	}
	_, err := w.sink.call(ctx, op, msgpack.Pair{Key: "args", Value: data})
	return err
}

// Utime: a 3.7 master answers it with an exception (MSGPACK.md §3.3), which
// fails a keepstamp upload there, as it does the reference's.
func (w *msgpackWriter) Utime(ctx context.Context, atime, mtime float64) error {
	_, err := w.sink.call(ctx, "update_upload_file_utime",
		msgpack.Pair{Key: "access_time", Value: atime}, msgpack.Pair{Key: "modified_time", Value: mtime})
	return err
}

func (w *msgpackWriter) Close(ctx context.Context) error {
	if w.dir {
		// A directory writer is closed by its unpack.
		return nil
	}
	_, err := w.sink.call(ctx, "update_upload_file_close")
	return err
}

func (w *msgpackWriter) Unpack(ctx context.Context) error {
	_, err := w.sink.call(ctx, "update_upload_directory_unpack")
	return err
}

// msgpackReader is the master's file reader of a download. Masters 3.7 and
// later discard the data they read (MSGPACK.md §3.3) and answer nil, which
// reads as the end of the file: the download arrives empty, as it does on
// the reference.
type msgpackReader struct{ sink *msgpackSink }

func (r *msgpackReader) Read(ctx context.Context, n int) ([]byte, error) {
	v, err := r.sink.call(ctx, "update_read_file", msgpack.Pair{Key: "length", Value: int64(n)})
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case []byte:
		return x, nil
	case string:
		return []byte(x), nil
	case nil:
		return nil, nil
	}
	return nil, fmt.Errorf("update_read_file returned %T, not bytes", v)
}

func (r *msgpackReader) Close(ctx context.Context) error {
	_, err := r.sink.call(ctx, "update_read_file_close")
	return err
}
