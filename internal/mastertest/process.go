package mastertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"
)

// outputTailSize bounds how much of a child's stdout/stderr is kept in
// memory: enough for a Python traceback, small enough to keep forever.
const outputTailSize = 64 << 10

// pipeDrainDelay bounds how long reaping waits for a child's output pipes to
// close. A grandchild that inherited them (a build command the worker left
// behind) must not block reaping forever.
const pipeDrainDelay = 2 * time.Second

// Process is a child process (a master or a worker) started in its own
// process group, so that stopping it also stops anything it spawned into
// that group. It is reaped by a background goroutine as soon as it exits.
type Process struct {
	name string
	cmd  *exec.Cmd
	out  *tailBuffer

	done    chan struct{} // closed once the process has been reaped
	waitErr error         // valid after done is closed
}

// startProcess starts cmd in a new process group, capturing the tail of its
// combined stdout and stderr. name is used in error messages only.
func startProcess(name string, cmd *exec.Cmd) (*Process, error) {
	p := &Process{name: name, cmd: cmd, out: newTailBuffer(outputTailSize), done: make(chan struct{})}
	cmd.Stdout = p.out
	cmd.Stderr = p.out
	cmd.WaitDelay = pipeDrainDelay
	cmd.SysProcAttr = newProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid returns the operating-system process id (also its process group id).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed once the process has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited and been reaped.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err returns the result of waiting for the process (nil for exit status 0).
// It is only meaningful once Done is closed.
func (p *Process) Err() error {
	select {
	case <-p.done:
		return p.waitErr
	default:
		return nil
	}
}

// Wait waits for the process to exit on its own and returns its exit error
// (nil for status 0), or ctx's error if ctx ends first.
func (p *Process) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.waitErr
	case <-ctx.Done():
		return fmt.Errorf("waiting for %s (pid %d) to exit: %w", p.name, p.Pid(), ctx.Err())
	}
}

// Output returns the last bytes (at most 64 KiB) the process wrote to its
// stdout and stderr. Buildbot daemons log to twistd.log instead, so this
// mostly holds errors raised before logging was set up.
func (p *Process) Output() string { return p.out.String() }

// Signal sends sig to the process itself (not its group), e.g. SIGHUP to ask
// a worker for a graceful shutdown.
func (p *Process) Signal(sig os.Signal) error {
	if p.Exited() {
		return fmt.Errorf("signal %s: %s (pid %d) has already exited", sig, p.name, p.Pid())
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal %s to %s (pid %d): %w", sig, p.name, p.Pid(), err)
	}
	return nil
}

// ErrKilled is wrapped by Stop's error when the process ignored SIGTERM
// and had to be killed.
var ErrKilled = errors.New("ignored SIGTERM and was killed")

// Stop asks the process group to terminate (SIGTERM), waits up to grace for
// the process to exit, then kills the whole group (SIGKILL). It always
// returns with the process reaped and members of its group killed. The error
// is non-nil only if the process had to be killed; the process's own exit
// status is available from Err. Stop may be called more than once.
func (p *Process) Stop(grace time.Duration) error {
	var killed bool
	if !p.Exited() {
		_ = signalGroup(p.cmd.Process, termSignal)
		timer := time.NewTimer(grace)
		select {
		case <-p.done:
			timer.Stop()
		case <-timer.C:
			killed = true
		}
	}
	// Kill stragglers left in the group (or the process itself after the
	// grace period); the leader is reaped below.
	_ = signalGroup(p.cmd.Process, killSignal)
	<-p.done
	if killed {
		return fmt.Errorf("%s (pid %d) %w after %s", p.name, p.Pid(), ErrKilled, grace)
	}
	return nil
}

// Kill kills the process group at once and waits until the process is
// reaped.
func (p *Process) Kill() {
	_ = signalGroup(p.cmd.Process, killSignal)
	<-p.done
}

// tailBuffer is an io.Writer that keeps only the last max bytes written.
// exec.Cmd writes to it from its own goroutine, hence the mutex.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
