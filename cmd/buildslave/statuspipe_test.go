package main

import (
	"bytes"
	"io"
	"testing"

	"github.com/buildslave/buildslave/agent"
)

func TestStatusEventRoundTrip(t *testing.T) {
	for _, e := range []statusEvent{
		{kind: eventStarted, pid: 1234},
		{kind: eventState, state: agent.StateConnecting},
		{kind: eventState, state: agent.StateDisconnected, msg: "dial tcp: refused"},
		{kind: eventFatal, msg: "no config"},
	} {
		got, ok := parseStatusEvent(e.encode())
		if !ok || got != e {
			t.Errorf("%+v came back as %+v (%v)", e, got, ok)
		}
	}
	multi := statusEvent{kind: eventFatal, msg: "line one\nline\ttwo"}
	got, ok := parseStatusEvent(multi.encode())
	if !ok || got.msg != "line one line two" {
		t.Errorf("multi-line message came back as %+v (%v)", got, ok)
	}
	for _, bad := range []string{"", "started", "started\tx", "state\t1", "state\tx\t", "what\tever"} {
		if e, ok := parseStatusEvent(bad); ok {
			t.Errorf("parseStatusEvent(%q) = %+v", bad, e)
		}
	}
}

type closeBuffer struct{ bytes.Buffer }

func (*closeBuffer) Close() error { return nil }

func TestStatusWriter(t *testing.T) {
	var buf closeBuffer
	w := newStatusWriter(&buf)
	w.send(statusEvent{kind: eventStarted, pid: 42})
	w.report(agent.Status{State: agent.StateConnected})
	w.close()
	w.send(statusEvent{kind: eventFatal, msg: "after close"}) // dropped, no panic
	w.close()

	events := make(chan statusEvent)
	go readStatusEvents(&buf, events, make(chan struct{}))
	var got []statusEvent
	for e := range events {
		got = append(got, e)
	}
	if len(got) != 2 || got[0].pid != 42 || got[1].state != agent.StateConnected {
		t.Errorf("read back %+v", got)
	}
}

// A status writer whose reader has gone must neither block nor fail.
func TestStatusWriterReaderGone(t *testing.T) {
	r, w := io.Pipe()
	r.Close()
	sw := newStatusWriter(w)
	for range 1000 {
		sw.send(statusEvent{kind: eventState, state: agent.StateDisconnected, msg: "x"})
	}
	sw.close()
}
