package main

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/buildslave/buildslave/agent"
)

// The background worker tells the start command that launched it how it is
// doing over a pipe, one line per event, fields separated by tabs:
//
//	started PID          the pid file is written, the worker is running
//	state   N  [ERROR]   agent.Status, N being the agent.State number
//	fatal   MESSAGE      the worker could not start or stopped with an error
//
// Both ends are this same binary, so the format is private to it.
const (
	eventStarted = "started"
	eventState   = "state"
	eventFatal   = "fatal"
)

type statusEvent struct {
	kind  string
	pid   int         // eventStarted
	state agent.State // eventState
	msg   string      // eventState (may be empty), eventFatal
}

func (e statusEvent) encode() string {
	fields := []string{e.kind}
	switch e.kind {
	case eventStarted:
		fields = append(fields, strconv.Itoa(e.pid))
	case eventState:
		fields = append(fields, strconv.Itoa(int(e.state)), oneLine(e.msg))
	case eventFatal:
		fields = append(fields, oneLine(e.msg))
	}
	return strings.Join(fields, "\t")
}

// oneLine keeps a message from breaking the line format.
func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(s)
}

func parseStatusEvent(line string) (statusEvent, bool) {
	fields := strings.SplitN(line, "\t", 3)
	e := statusEvent{kind: fields[0]}
	switch {
	case e.kind == eventStarted && len(fields) == 2:
		pid, err := strconv.Atoi(fields[1])
		e.pid = pid
		return e, err == nil
	case e.kind == eventState && len(fields) == 3:
		n, err := strconv.Atoi(fields[1])
		e.state, e.msg = agent.State(n), fields[2]
		return e, err == nil
	case e.kind == eventFatal && len(fields) == 2:
		e.msg = fields[1]
		return e, true
	}
	return e, false
}

// statusWriter is the background worker's end of the pipe. Sending never
// blocks, as agent.Options.Status requires: events go through a buffer to
// a goroutine that writes them, and are dropped once the reader has gone
// (start exits as soon as it knows the outcome) or the buffer is full.
type statusWriter struct {
	mu     sync.Mutex
	closed bool
	lines  chan string
	done   chan struct{}
}

func newStatusWriter(w io.WriteCloser) *statusWriter {
	s := &statusWriter{lines: make(chan string, 64), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer w.Close()
		ok := true
		for line := range s.lines {
			if ok {
				_, err := io.WriteString(w, line+"\n")
				ok = err == nil
			}
		}
	}()
	return s
}

func (s *statusWriter) send(e statusEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case s.lines <- e.encode():
	default:
	}
}

// report is the agent.Options.Status callback.
func (s *statusWriter) report(st agent.Status) {
	msg := ""
	if st.Err != nil {
		msg = st.Err.Error()
	}
	s.send(statusEvent{kind: eventState, state: st.State, msg: msg})
}

// close writes what is buffered and closes the pipe, so that a fatal error
// reaches start before the process exits.
func (s *statusWriter) close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.lines)
	}
	s.mu.Unlock()
	<-s.done
}

// readStatusEvents is start's end of the pipe: it delivers events until the
// pipe closes (the worker exited) or stop is closed.
func readStatusEvents(r io.Reader, events chan<- statusEvent, stop <-chan struct{}) {
	defer close(events)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		e, ok := parseStatusEvent(sc.Text())
		if !ok {
			continue
		}
		select {
		case events <- e:
		case <-stop:
			return
		}
	}
}
