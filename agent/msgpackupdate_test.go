package agent

import (
	"bytes"
	"testing"

	"github.com/buildslave/buildslave/agent/command"
	"github.com/buildslave/buildslave/protocol/msgpack"
)

// A failure_reason is a plain string over msgpack, as the Python worker
// sends it; sent as log text, the 3.7 master stored ["timeout", [], []]
// (found by TestShell4xLimitsOn37Master over msgpack).
func TestMsgpackKeyedValues(t *testing.T) {
	const now = 1795457037.5
	for _, tc := range []struct {
		in   command.Update
		want any
	}{
		{command.Update{Key: "failure_reason", Value: "timeout"}, "timeout"},
		{command.Update{Key: "failure_reason", Value: "max_lines_failure"}, "max_lines_failure"},
		{command.Update{Key: "stdout", Value: "a\n"}, []any{"a\n", []any{int64(1)}, []any{now}}},
		{command.Update{Key: "stderr", Value: "b"}, []any{"b", []any{}, []any{}}},
		{command.Update{Key: "header", Value: "h\n"}, []any{"h\n", []any{int64(1)}, []any{now}}},
		{command.Update{Key: "log", Value: command.LogText{Name: "l", Text: "x\n"}}, []any{"l", []any{"x\n", []any{int64(1)}, []any{now}}}},
		{command.Update{Key: "rc", Value: 3}, int64(3)},
	} {
		if got := msgpackKeyedValue(tc.in, now); !sameOnTheWire(t, got, tc.want) {
			t.Errorf("%+v → %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

// sameOnTheWire reports whether got and want encode to the same msgpack:
// what the master reads, whatever Go types carry it.
func sameOnTheWire(t *testing.T, got, want any) bool {
	t.Helper()
	g, err := msgpack.Encode(msgpack.Map{{Key: "v", Value: got}})
	if err != nil {
		t.Fatalf("encoding %#v: %v", got, err)
	}
	w, err := msgpack.Encode(msgpack.Map{{Key: "v", Value: want}})
	if err != nil {
		t.Fatalf("encoding %#v: %v", want, err)
	}
	return bytes.Equal(g, w)
}
