package command

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// funcCommand is a Command made of a function.
type funcCommand struct {
	run         func(ctx context.Context, out *Output) error
	interrupted bool
}

func (c *funcCommand) Run(ctx context.Context, out *Output) error { return c.run(ctx, out) }
func (c *funcCommand) Interrupt(string)                           {}
func (c *funcCommand) Interrupted() bool                          { return c.interrupted }

func TestRunReportsInOrder(t *testing.T) {
	sink := newFakeSink()
	cmd := &funcCommand{run: func(_ context.Context, out *Output) error {
		out.Header("cmd\n")
		out.Stdout("hello\nno-newline")
		out.RC(0)
		return nil
	}}
	Run(context.Background(), cmd, sink, nil)
	got := sink.updates()
	if k := strings.Join(keys(got), " "); k != "header stdout rc elapsed stdout" {
		t.Fatalf("keys %s", k)
	}
	if e, ok := got[3].Value.(float64); !ok || e < 0 {
		t.Errorf("elapsed %#v", got[3].Value)
	}
	if got[4].Value != "no-newline\n" {
		t.Errorf("last %q", got[4].Value)
	}
	if !sink.completed || sink.failure != nil {
		t.Errorf("completed %v with %v", sink.completed, sink.failure)
	}
}

func TestRunReportsFailure(t *testing.T) {
	sink := newFakeSink()
	boom := errors.New("boom")
	Run(context.Background(), &funcCommand{run: func(context.Context, *Output) error { return boom }}, sink, nil)
	if k := strings.Join(keys(sink.updates()), " "); k != "elapsed" {
		t.Errorf("keys %s", k)
	}
	if !errors.Is(sink.failure, boom) {
		t.Errorf("failure %v", sink.failure)
	}
}

func TestRunRecoversPanic(t *testing.T) {
	sink := newFakeSink()
	Run(context.Background(), &funcCommand{run: func(context.Context, *Output) error { panic("oops") }}, sink, nil)
	if sink.failure == nil || !strings.Contains(sink.failure.Error(), "oops") {
		t.Errorf("failure %v", sink.failure)
	}
}

func TestRunSendsNoElapsedWhenInterrupted(t *testing.T) {
	sink := newFakeSink()
	cmd := &funcCommand{interrupted: true, run: func(_ context.Context, out *Output) error {
		out.RC(-1)
		return nil
	}}
	Run(context.Background(), cmd, sink, nil)
	if k := strings.Join(keys(sink.updates()), " "); k != "rc" {
		t.Errorf("keys %s", k)
	}
}

func TestRunSurvivesPanickingSink(t *testing.T) {
	Run(context.Background(), &funcCommand{run: func(_ context.Context, out *Output) error {
		out.Stdout("x\n")
		return out.Flush(context.Background())
	}}, &panickingSink{}, nil)
}
