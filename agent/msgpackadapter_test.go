package agent

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/buildslave/buildslave/agent/command"
	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/protocol/msgpack"
)

// handlerOnly is a msgpack session's request handler without a
// connection: enough for the ops that send nothing back.
func handlerOnly(t *testing.T) *msgpackSession {
	t.Helper()
	b := newBot(&config.Config{Basedir: t.TempDir()}, slog.New(slog.DiscardHandler), "test")
	s := &msgpackSession{bot: b, log: b.log, first: make(chan struct{}), shutdown: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	t.Cleanup(s.cancel)
	return s
}

func request(op string, fields ...msgpack.Pair) *msgpack.Request {
	return &msgpack.Request{Op: op, Fields: msgpack.Map(fields)}
}

func TestMsgpackMasterOps(t *testing.T) {
	s := handlerOnly(t)
	ctx := context.Background()
	if r, err := s.ServeMsgpack(ctx, request("print", msgpack.Pair{Key: "message", Value: "hi"})); r != nil || err != nil {
		t.Errorf("print = %v, %v", r, err)
	}
	select {
	case <-s.first:
	default:
		t.Error("the first request did not mark the session attached")
	}
	if r, err := s.ServeMsgpack(ctx, request("keepalive")); r != nil || err != nil {
		t.Errorf("keepalive = %v, %v", r, err)
	}
	r, err := s.ServeMsgpack(ctx, request("get_worker_info"))
	info, ok := r.(msgpack.Map)
	if err != nil || !ok {
		t.Fatalf("get_worker_info = %T, %v", r, err)
	}
	for _, k := range []string{"environ", "system", "basedir", "numcpus", "version", "worker_commands", "delete_leftover_dirs"} {
		if _, ok := info.Get(k); !ok {
			t.Errorf("worker info lacks %s", k)
		}
	}
	if cmds, _ := info.Map("worker_commands"); len(cmds) == 0 {
		t.Errorf("worker_commands is not a map of commands: %v", info)
	}
	if _, err := s.ServeMsgpack(ctx, request("no_such_op")); !errors.Is(err, msgpack.ErrUnknownOp) {
		t.Errorf("unknown op: %v", err)
	}
	// An interrupt for a command that is not running is only logged.
	if _, err := s.ServeMsgpack(ctx, request("interrupt_command",
		msgpack.Pair{Key: "builder_name", Value: "b"}, msgpack.Pair{Key: "command_id", Value: "9"},
		msgpack.Pair{Key: "why", Value: "test"})); err != nil {
		t.Errorf("interrupt of an unknown id: %v", err)
	}
	if _, err := s.ServeMsgpack(ctx, request("shutdown")); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	select {
	case <-s.shutdown:
	default:
		t.Error("shutdown did not end the session")
	}
}

func TestMsgpackSetWorkerSettings(t *testing.T) {
	s := handlerOnly(t)
	ctx := context.Background()
	args := msgpack.Map{
		{Key: "newline_re", Value: command.DefaultNewlineRE},
		{Key: "max_line_length", Value: int64(4096)},
		{Key: "buffer_timeout", Value: int64(5)},
		{Key: "buffer_size", Value: int64(65536)},
	}
	if _, err := s.ServeMsgpack(ctx, request("set_worker_settings", msgpack.Pair{Key: "args", Value: args})); err != nil {
		t.Fatal(err)
	}
	want := command.OutputSettings{BufferSize: 65536, BufferTimeout: 5 * time.Second, MaxLineLength: 4096, NewlineRE: command.DefaultNewlineRE}
	if s.bot.output != want {
		t.Errorf("settings %+v, want %+v", s.bot.output, want)
	}
	args[2].Value = 0.5 // a float number of seconds
	if _, err := s.ServeMsgpack(ctx, request("set_worker_settings", msgpack.Pair{Key: "args", Value: args})); err != nil || s.bot.output.BufferTimeout != 500*time.Millisecond {
		t.Errorf("float buffer_timeout: %v, %v", err, s.bot.output.BufferTimeout)
	}
	_, err := s.ServeMsgpack(ctx, request("set_worker_settings", msgpack.Pair{Key: "args", Value: args[:3]}))
	if err == nil || !strings.Contains(err.Error(), "obligatory settings") {
		t.Errorf("without buffer_size: %v", err)
	}
	if _, err := s.ServeMsgpack(ctx, request("set_worker_settings")); err == nil || !strings.Contains(err.Error(), `"args"`) {
		t.Errorf("without args: %v", err)
	}
}

func TestMsgpackStartCommandRefusals(t *testing.T) {
	s := handlerOnly(t)
	ctx := context.Background()
	_, err := s.ServeMsgpack(ctx, request("start_command",
		msgpack.Pair{Key: "command_id", Value: "3"}, msgpack.Pair{Key: "command_name", Value: "nosuchcmd"},
		msgpack.Pair{Key: "args", Value: msgpack.Map{}}))
	if err == nil || err.Error() != "(command 3): unrecognized WorkerCommand 'nosuchcmd'" {
		t.Errorf("unknown command: %v, want the reference's text", err)
	}
	_, err = s.ServeMsgpack(ctx, request("start_command", msgpack.Pair{Key: "command_id", Value: "3"}))
	if err == nil || !strings.Contains(err.Error(), `obligatory "command_name" key`) {
		t.Errorf("no command_name: %v", err)
	}
}

func TestMsgpackUpdateValues(t *testing.T) {
	const now = 1795457037.5
	for _, tc := range []struct {
		in   any
		want any
	}{
		{"hello\nworld\n", []any{"hello\nworld\n", []any{int64(5), int64(11)}, []any{now, now}}},
		{command.LogText{Name: "mylog", Text: "l\n"}, []any{"mylog", []any{"l\n", []any{int64(1)}, []any{now}}}},
		{command.Stat{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, []any{int64(1), int64(2), int64(3), int64(4), int64(5), int64(6), int64(7), int64(8), int64(9), int64(10)}},
		{[]string{"a", "b"}, []any{"a", "b"}},
		{0, int64(0)},
		{1.5, 1.5},
	} {
		if got := msgpackUpdateValue(tc.in, now); !sameOnTheWire(t, got, tc.want) {
			t.Errorf("%#v → %#v, want %#v", tc.in, got, tc.want)
		}
	}
	// What the master reads: the pair list encodes as msgpack-python would.
	m := msgpack.Map{{Key: "op", Value: "update"}, {Key: "args", Value: []any{[]any{"rc", msgpackUpdateValue(0, now)}}}}
	if _, err := msgpack.Encode(m); err != nil {
		t.Errorf("an update does not encode: %v", err)
	}
}

func TestMsgpackFailureText(t *testing.T) {
	e := pythonException(errors.New("boom"))
	if got, want := e.failureText(), "[Failure instance: Traceback (failure with no frames): <class 'RuntimeError'>: boom\n]"; got != want {
		t.Errorf("failure text %q, want %q", got, want)
	}
}

// BenchmarkMsgpackLogUpdate is one flush of a log of short lines, as the
// 5 MiB-log row of make bench sends it: the update value and its encoding.
func BenchmarkMsgpackLogUpdate(b *testing.B) {
	text := strings.Repeat("a build log line of about eighty characters, as compilers and tests print\n", 64<<10/75)
	now := 1.7e9
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		m := msgpack.Map{{Key: "op", Value: "update"}, {Key: "command_id", Value: "7"}, {Key: "seq_number", Value: int64(9)},
			{Key: "args", Value: []any{[]any{"stdout", msgpackUpdateValue(text, now)}}}}
		if _, err := msgpack.Encode(m); err != nil {
			b.Fatal(err)
		}
	}
}
