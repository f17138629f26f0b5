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
}

// supervise waits for the process to end and its output to be read,
// reacting to timers, interrupts and cancellation meanwhile, then reports
// the end. start is when the process was started.
func (r *shellRun) supervise(ctx context.Context, start time.Time) error {
	activity := make(chan struct{}, 1)
	streamsDone := make(chan struct{})
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
			r.kill(fmt.Sprintf("command timed out: %s seconds without output running %s",
				r.cfg.timeout, r.cfg.command.argvRepr()))
		case <-r.maxTime.C():
			r.kill(fmt.Sprintf("command timed out: %s seconds elapsed running %s",
				r.cfg.maxTime, r.cfg.command.argvRepr()))
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
func (r *shellRun) sendIf(want bool, send func(string)) func(string) {
	if want {
		return send
	}
	return func(string) {}
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
