package command

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// backupTimeout is how long after the last kill signal the process may
// take to end before the command gives up on it.
const backupTimeout = 5 * time.Second

// shellRun supervises one started process: it streams the output, runs
// the timers, and applies the kill procedure (COMMANDS.md §2.6). All its
// state belongs to the goroutine running supervise.
type shellRun struct {
	*shell
	cfg   *shellConfig
	out   *Output
	child *child
	logs  []*logWatcher

	killing bool // the kill procedure has begun
	killed  bool // a kill signal was sent

	noOutput alarm // timeout: seconds without output
	maxTime  alarm // maxTime: seconds in all
	sigterm  alarm // the SIGTERM grace period is over
	backup   alarm // the process outlived the kill
	logPoll  alarm

	lines         lineCounter
	linesExceeded chan linesExceeded // from a reader, past max_lines
	ended         chan struct{}      // closed when supervise returns
}

// linesExceeded is a reader's report that the output went past
// max_lines: supervise starts the kill, then closes done, and only then
// does the reader send the chunk that went over, as the reference sends
// the failure reason and the kill header before it.
type linesExceeded struct {
	count int64
	done  chan struct{}
}

// supervise waits for the process to end and its output to be read,
// reacting to timers, interrupts and cancellation meanwhile, then reports
// the end. start is when the process was started.
func (r *shellRun) supervise(ctx context.Context, start time.Time) error {
	activity := make(chan struct{}, 1)
	streamsDone := make(chan struct{})
	r.linesExceeded = make(chan linesExceeded)
	r.ended = make(chan struct{})
	defer close(r.ended)
	if r.cfg.hasMaxLines {
		r.lines.max = r.cfg.maxLines
	}
	var readers sync.WaitGroup
	readers.Go(func() { readStream(r.child.stdout, r.sendIf(r.cfg.wantStdout, r.out.Stdout), activity) })
	if r.child.stderr != nil { // nil under a PTY, where stderr is stdout
		readers.Go(func() { readStream(r.child.stderr, r.sendIf(r.cfg.wantStderr, r.out.Stderr), activity) })
	}
	go func() {
		readers.Wait()
		close(streamsDone)
	}()
	defer r.cleanUp()

	if r.cfg.timeout.set() {
		r.noOutput.set(r.cfg.timeout.duration())
	}
	if r.cfg.maxTime.set() {
		r.maxTime.set(r.cfg.maxTime.duration())
	}
	if len(r.logs) > 0 {
		r.logPoll.set(logPollInterval)
	}

	exited, streams, interrupt, done := r.child.exited, streamsDone, r.interrupt, ctx.Done()
	var stopped error // why the context ended the command
	for exited != nil || streams != nil {
		select {
		case <-exited:
			exited = nil
		case <-streams:
			streams = nil
		case <-activity:
			r.sawOutput()
		case <-r.logPoll.C():
			if r.pollLogs() {
				r.sawOutput()
			}
			r.logPoll.set(logPollInterval)
		case <-r.noOutput.C():
			// The failure reasons go out before the kill header, as the
			// reference's doTimeout, doMaxTimeout and do_max_lines send
			// them (4.3 runprocess.py); a 4.x master shows them in the
			// step's summary, a 3.x master keeps them unread.
			r.out.Add("failure_reason", "timeout_without_output")
			r.kill(fmt.Sprintf("command timed out: %s seconds without output running %s",
				r.cfg.timeout, r.cfg.command.argvRepr()))
		case <-r.maxTime.C():
			r.out.Add("failure_reason", "timeout")
			r.kill(fmt.Sprintf("command timed out: %s seconds elapsed running %s",
				r.cfg.maxTime, r.cfg.command.argvRepr()))
		case e := <-r.linesExceeded:
			r.exceededMaxLines(e.count)
			close(e.done)
		case <-interrupt:
			interrupt = nil
			r.interrupted.Store(true)
			r.kill("command interrupted")
		case <-done:
			// The worker is stopping or lost the master: kill without a
			// word, as nobody would read it.
			done = nil
			stopped = context.Cause(ctx)
			r.kill("")
		case <-r.sigterm.C():
			r.finalSignal()
		case <-r.backup.C():
			return r.giveUp()
		}
	}
	elapsed := time.Since(start)
	r.pollLogs() // what the files gained at the very end

	rc, sig, signaled := exitStatus(r.child.state, r.killed)
	if r.child.state == nil {
		r.log.Warn("waiting for the process failed", "err", r.child.waitErr)
	}
	if signaled {
		r.out.Header(fmt.Sprintf("process killed by signal %d\n", sig))
	}
	r.out.RC(rc)
	r.out.Header(elapsedHeader(elapsed))
	if stopped != nil {
		return fmt.Errorf("command stopped: %w", stopped)
	}
	return nil
}

// sendIf returns the function a reader hands its output to: send, or
// nothing when the master does not want the stream. The output is read
// either way, so the process does not block and it counts as activity.
// Only what is sent counts towards max_lines, as in the reference.
func (r *shellRun) sendIf(want bool, send func(string)) func(string) {
	if !want {
		return func(string) {}
	}
	if !r.cfg.hasMaxLines {
		return send
	}
	return func(chunk string) {
		if count, over := r.lines.add(chunk); over {
			e := linesExceeded{count: count, done: make(chan struct{})}
			select {
			case r.linesExceeded <- e:
				<-e.done
			case <-r.ended:
			}
		}
		send(chunk)
	}
}

// exceededMaxLines starts the kill for output past max_lines (4.3
// runprocess.py, _check_max_lines and do_max_lines): the failure reason
// and the header go out, the kill starts, and stdout is no longer read.
// The reference closes stdout just before the kill, which lets a process
// writing at that moment die of SIGPIPE instead ("killed by signal 13");
// closing it after the first signal makes the header say what killed it.
// A kill already under way (a timeout, an interrupt) stays as it is.
func (r *shellRun) exceededMaxLines(count int64) {
	if r.killing {
		return
	}
	r.out.Add("failure_reason", "max_lines_failure")
	r.kill(fmt.Sprintf("command exceeds max lines: %d/%d written/allowed running %s",
		count, r.cfg.maxLines, r.cfg.command.argvRepr()))
	r.child.stdout.Close()
}

// sawOutput restarts the no-output timer, unless the kill has begun.
func (r *shellRun) sawOutput() {
	if r.cfg.timeout.set() && !r.killing {
		r.noOutput.set(r.cfg.timeout.duration())
	}
}

func (r *shellRun) pollLogs() bool {
	got := false
	for _, w := range r.logs {
		if w.poll(r.out) {
			got = true
		}
	}
	return got
}

// kill starts the kill procedure, explaining why in the header unless msg
// is empty: SIGTERM first if sigtermTime is set, else interruptSignal at
// once. It runs once; later triggers change nothing.
func (r *shellRun) kill(msg string) {
	if r.killing {
		return
	}
	r.killing = true
	r.noOutput.stop()
	r.maxTime.stop()
	if msg != "" {
		r.log.Info(msg)
		r.out.Header("\n" + msg + ", attempting to kill\n")
	}
	r.killed = true
	if r.cfg.sigtermTime.set() {
		r.signal("TERM")
		r.sigterm.set(r.cfg.sigtermTime.duration())
		return
	}
	r.finalSignal()
}

// finalSignal sends interruptSignal and stops reading the output, as the
// reference closes the pipes; then the process gets backupTimeout to end.
// The signal goes to the process group even if its leader has already
// ended, so that stragglers it left are killed too.
func (r *shellRun) finalSignal() {
	r.signal(r.killSignal())
	r.child.stopReading()
	r.backup.set(backupTimeout)
}

func (r *shellRun) signal(name string) {
	if err := signalTree(r.child, name); err != nil {
		r.log.Warn("sending a signal failed", "signal", name, "err", err)
	}
}

// killSignal is interruptSignal if this OS knows it, else KILL.
func (r *shellRun) killSignal() string {
	if validSignal(r.cfg.interruptSignal) {
		return r.cfg.interruptSignal
	}
	r.log.Warn("unknown interruptSignal, using KILL", "signal", r.cfg.interruptSignal)
	return "KILL"
}

// giveUp ends the command when even the kill did not end the process. The
// process is left to itself; the goroutine waiting for it ends with it.
func (r *shellRun) giveUp() error {
	name := "SIG" + r.cfg.interruptSignal
	r.log.Warn("the process would not die; finishing anyway", "signal", name)
	r.out.Header(name + " failed to kill process\n")
	r.out.Header("using fake rc=-1\n")
	r.out.RC(-1)
	return fmt.Errorf("%s failed to kill process", name)
}

// cleanUp releases what the run holds. The readers end because their
// pipes are closed.
func (r *shellRun) cleanUp() {
	for _, a := range []*alarm{&r.noOutput, &r.maxTime, &r.sigterm, &r.backup, &r.logPoll} {
		a.stop()
	}
	r.child.closeStdin()
	r.child.stopReading()
	releaseTree(r.child)
	for _, w := range r.logs {
		w.close()
	}
}

// alarm is a one-shot timer whose channel is nil while it is not set, so
// that a select case on it stays quiet.
type alarm struct {
	t *time.Timer
}

func (a *alarm) set(d time.Duration) {
	if a.t == nil {
		a.t = time.NewTimer(d)
		return
	}
	a.t.Reset(d)
}

func (a *alarm) stop() {
	if a.t != nil {
		a.t.Stop()
		a.t = nil
	}
}

// C is the channel to wait on; nil while the alarm is not set.
func (a *alarm) C() <-chan time.Time {
	if a.t == nil {
		return nil
	}
	return a.t.C
}

// lineCounter counts the lines of output sent, for max_lines; the stdout
// and stderr readers share it.
type lineCounter struct {
	max int64

	mu       sync.Mutex
	count    int64
	exceeded bool
}

// add counts the line ends in chunk, as the reference's
// re.findall(r"\r\n|\r|\n") does on each chunk (a CR LF pair counting
// once), and reports the count and whether it has just gone past max: that
// is reported once.
func (c *lineCounter) add(chunk string) (int64, bool) {
	n := int64(0)
	for i := 0; i < len(chunk); i++ {
		switch chunk[i] {
		case '\n':
			n++
		case '\r':
			n++
			if i+1 < len(chunk) && chunk[i+1] == '\n' {
				i++
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.count += n
	if c.count > c.max && !c.exceeded {
		c.exceeded = true
		return c.count, true
	}
	return c.count, false
}
