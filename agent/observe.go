package agent

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/buildslave/buildslave/agent/command"
)

// Observer is told what the worker does, for a status file, metrics or a
// health check; it never changes what the worker does. It is set through
// Options.Observer.
//
// Contract: methods may be called from several goroutines at once (the
// connection loop, each running command); they must be quick and must not
// block — anything slow (writing a file, serving HTTP) happens on the
// observer's own goroutines. Values passed in hold nothing secret: no
// password, no command arguments or environment.
type Observer interface {
	// StateChanged receives every Status the connection loop reports, in
	// order, as Options.Status does, with Master filled in.
	StateChanged(Status)
	// KeepaliveAnswered says the master answered a keepalive after rtt.
	KeepaliveAnswered(rtt time.Duration)
	// CommandStarted says a command the master started is running.
	CommandStarted(CommandInfo)
	// CommandFinished says it ended; it follows its CommandStarted.
	CommandFinished(CommandInfo, CommandResult)
	// Transferred counts file bytes moved for transfer commands: up is
	// true for worker to master (uploads), false for downloads.
	Transferred(up bool, n int)
	// OutputLines counts lines of command output sent to the master
	// (stdout, stderr and watched log files).
	OutputLines(n int)
}

// CommandInfo names one running command.
type CommandInfo struct {
	Builder string
	ID      string // the master's command id
	Name    string // "shell", "uploadFile", ...
	Started time.Time
}

// Results of a finished command, as CommandResult.Result.
const (
	ResultSuccess     = "success"     // rc 0
	ResultFailure     = "failure"     // another rc
	ResultInterrupted = "interrupted" // the master or a lost connection stopped it
	ResultException   = "exception"   // the command itself failed (no rc)
)

// CommandResult is how a command ended.
type CommandResult struct {
	Result   string // one of the Result constants
	RC       int    // meaningful unless Result is ResultException
	Duration time.Duration
}

// nopObserver is the observer of a worker run without one.
type nopObserver struct{}

func (nopObserver) StateChanged(Status)                        {}
func (nopObserver) KeepaliveAnswered(time.Duration)            {}
func (nopObserver) CommandStarted(CommandInfo)                 {}
func (nopObserver) CommandFinished(CommandInfo, CommandResult) {}
func (nopObserver) Transferred(bool, int)                      {}
func (nopObserver) OutputLines(int)                            {}

func observerOrNop(o Observer) Observer {
	if o == nil {
		return nopObserver{}
	}
	return o
}

// observedCommand follows one command for the observer: the transfers'
// bytes, the lines of output, its rc and how it ended.
type observedCommand struct {
	obs   Observer
	info  CommandInfo
	rc    atomic.Int64
	hasRC atomic.Bool
}

// observeCommand wraps args' master objects and sink so that obs learns
// what the command moves and sends. Call started once the command exists
// and finished when it has ended.
func observeCommand(obs Observer, builder, id, name string, args command.Args, sink command.Sink) (*observedCommand, command.Sink) {
	oc := &observedCommand{obs: obs, info: CommandInfo{Builder: builder, ID: id, Name: name}}
	for k, v := range args {
		switch x := v.(type) {
		case command.FileWriter:
			args[k] = countWrites(x, obs)
		case command.FileReader:
			args[k] = countReads(x, obs)
		}
	}
	return oc, &observingSink{Sink: sink, cmd: oc}
}

func (oc *observedCommand) started() {
	oc.info.Started = time.Now()
	oc.obs.CommandStarted(oc.info)
}

// finished reports the end of cmd; lost says its connection ended first.
func (oc *observedCommand) finished(cmd command.Command, lost bool) {
	r := CommandResult{Duration: time.Since(oc.info.Started), RC: int(oc.rc.Load())}
	interrupted := lost
	if ir, ok := cmd.(command.InterruptReporter); ok && !interrupted {
		interrupted = ir.Interrupted()
	}
	switch {
	case interrupted:
		r.Result = ResultInterrupted
	case !oc.hasRC.Load():
		r.Result = ResultException
	case r.RC == 0:
		r.Result = ResultSuccess
	default:
		r.Result = ResultFailure
	}
	oc.obs.CommandFinished(oc.info, r)
}

// observingSink passes updates on, noting the rc and counting lines.
type observingSink struct {
	command.Sink
	cmd *observedCommand
}

func (s *observingSink) SendUpdates(ctx context.Context, updates []command.Update) error {
	lines := 0
	for _, u := range updates {
		switch v := u.Value.(type) {
		case int:
			if u.Key == "rc" {
				s.cmd.rc.Store(int64(v))
				s.cmd.hasRC.Store(true)
			}
		case string:
			if u.Key == "stdout" || u.Key == "stderr" {
				lines += countLines(v)
			}
		case command.LogText:
			lines += countLines(v.Text)
		}
	}
	err := s.Sink.SendUpdates(ctx, updates)
	if lines > 0 && err == nil {
		s.cmd.obs.OutputLines(lines)
	}
	return err
}

// countLines counts the lines of a chunk of output; Output sends whole
// lines except for a last partial one at the end of the command.
func countLines(s string) int {
	n := strings.Count(s, "\n")
	if s != "" && !strings.HasSuffix(s, "\n") {
		n++
	}
	return n
}

// countWrites and countReads wrap a transfer's writer or reader so that
// obs learns the bytes moved. A writer or reader that pipelines stays
// one: a transfer keeps its window only through those calls.
func countWrites(w command.FileWriter, obs Observer) command.FileWriter {
	cw := &countingWriter{FileWriter: w, obs: obs}
	if pw, ok := w.(command.PipelinedWriter); ok {
		return &countingPipelinedWriter{countingWriter: cw, pw: pw}
	}
	return cw
}

func countReads(r command.FileReader, obs Observer) command.FileReader {
	cr := &countingReader{FileReader: r, obs: obs}
	if pr, ok := r.(command.PipelinedReader); ok {
		recycler, _ := r.(command.BlockRecycler)
		return &countingPipelinedReader{countingReader: cr, pr: pr, recycler: recycler}
	}
	return cr
}

type countingWriter struct {
	command.FileWriter
	obs Observer
}

func (w *countingWriter) Write(ctx context.Context, data []byte) error {
	err := w.FileWriter.Write(ctx, data)
	if err == nil {
		w.obs.Transferred(true, len(data))
	}
	return err
}

type countingReader struct {
	command.FileReader
	obs Observer
}

func (r *countingReader) Read(ctx context.Context, n int) ([]byte, error) {
	data, err := r.FileReader.Read(ctx, n)
	if len(data) > 0 {
		r.obs.Transferred(false, len(data))
	}
	return data, err
}

type countingPipelinedWriter struct {
	*countingWriter
	pw command.PipelinedWriter
}

func (w *countingPipelinedWriter) StartWrite(data []byte) (func(context.Context) error, error) {
	wait, err := w.pw.StartWrite(data)
	if err != nil {
		return nil, err
	}
	n := len(data)
	return func(ctx context.Context) error {
		err := wait(ctx)
		if err == nil {
			w.obs.Transferred(true, n)
		}
		return err
	}, nil
}

func (w *countingPipelinedWriter) StartUtime(atime, mtime float64) (func(context.Context) error, error) {
	return w.pw.StartUtime(atime, mtime)
}

func (w *countingPipelinedWriter) StartClose() (func(context.Context) error, error) {
	return w.pw.StartClose()
}

func (w *countingPipelinedWriter) StartUnpack() (func(context.Context) error, error) {
	return w.pw.StartUnpack()
}

// countingPipelinedReader is also a command.BlockRecycler, which hands
// the blocks back to a reader that recycles them and drops them otherwise.
type countingPipelinedReader struct {
	*countingReader
	pr       command.PipelinedReader
	recycler command.BlockRecycler // nil when the reader does not recycle
}

func (r *countingPipelinedReader) StartRead(n int) (func(context.Context) ([]byte, error), error) {
	wait, err := r.pr.StartRead(n)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) ([]byte, error) {
		data, err := wait(ctx)
		if len(data) > 0 {
			r.obs.Transferred(false, len(data))
		}
		return data, err
	}, nil
}

func (r *countingPipelinedReader) StartClose() (func(context.Context) error, error) {
	return r.pr.StartClose()
}

func (r *countingPipelinedReader) Recycle(block []byte) {
	if r.recycler != nil {
		r.recycler.Recycle(block)
	}
}

// Observers makes one Observer of several, called in order; nil ones are
// left out.
func Observers(obs ...Observer) Observer {
	var all multiObserver
	for _, o := range obs {
		if o != nil {
			all = append(all, o)
		}
	}
	return all
}

type multiObserver []Observer

func (m multiObserver) StateChanged(s Status) {
	for _, o := range m {
		o.StateChanged(s)
	}
}

func (m multiObserver) KeepaliveAnswered(rtt time.Duration) {
	for _, o := range m {
		o.KeepaliveAnswered(rtt)
	}
}

func (m multiObserver) CommandStarted(c CommandInfo) {
	for _, o := range m {
		o.CommandStarted(c)
	}
}

func (m multiObserver) CommandFinished(c CommandInfo, r CommandResult) {
	for _, o := range m {
		o.CommandFinished(c, r)
	}
}

func (m multiObserver) Transferred(up bool, n int) {
	for _, o := range m {
		o.Transferred(up, n)
	}
}

func (m multiObserver) OutputLines(n int) {
	for _, o := range m {
		o.OutputLines(n)
	}
}
