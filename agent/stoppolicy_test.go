package agent

import (
	"errors"
	"testing"
	"time"

	"github.com/buildslave/buildslave/protocol/jelly"
	"github.com/buildslave/buildslave/protocol/pb"
)

// refuseShutdown answers the worker's shutdown request with an error, as a
// master that will not (or cannot) let the worker go does.
func refuseShutdown(method string) (any, *jelly.Failure) {
	if method == "shutdown" {
		return nil, pb.NewFailure(pb.TypePBError, "not now")
	}
	return nil, nil
}

// runSleep starts "sleep SECONDS" on a builder of c and returns the
// luid of its command reference.
func runSleep(t *testing.T, c *fakePBConn, seconds string) int64 {
	t.Helper()
	v, f := c.call(c.mind, "setBuilderList", jelly.Tuple{jelly.List{jelly.List{"b1", "b1"}}}, nil)
	if f != nil {
		t.Fatalf("setBuilderList: %v", f.Value)
	}
	b1 := v.(*jelly.Dict).Items[0].Value.(jelly.Remote).LUID
	args := jelly.NewDict("workdir", "wd", "command", jelly.List{"sleep", seconds}, "env", &jelly.Dict{})
	if _, f := c.call(b1, "startCommand", jelly.Tuple{jelly.Remote{LUID: 100}, "1", "shell", args}, nil); f != nil {
		t.Fatalf("startCommand: %v", f.Value)
	}
	return 100
}

func waitRun(t *testing.T, done <-chan error, within time.Duration) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	select {
	case err := <-done:
		return time.Since(start), err
	case <-time.After(within):
		t.Fatalf("the worker still runs %v after the stop request", within)
		return 0, nil
	}
}

func noReconnect(t *testing.T, m *fakePBMaster) {
	t.Helper()
	select {
	case <-m.conns:
		t.Error("the worker connected again after the stop request")
	case <-time.After(3 * time.Second):
	}
}

// A master that refuses the shutdown request: the worker lets its running
// command finish, then exits at once, without reconnecting.
func TestStopWithARefusingMaster(t *testing.T) {
	m := newFakePBMaster(t)
	m.answer = refuseShutdown
	stop := make(chan string, 1)
	_, done, _ := startFakeWorker(t, m, Options{Stop: stop})
	c := m.next()
	ref := runSleep(t, c, "2")
	stop <- "we got SIGTERM"
	took, err := waitRun(t, done, 30*time.Second)
	if !errors.Is(err, ErrShutdown) {
		t.Errorf("Run = %v, want ErrShutdown", err)
	}
	select {
	case call := <-c.calls:
		for call[0] != "complete" || call[1] != ref {
			call = <-c.calls
		}
	default:
		c.waitCall(ref, "complete")
	}
	if took > 10*time.Second {
		t.Errorf("the worker took %v to exit after a 2 s command", took)
	}
	noReconnect(t, m)
}

// Idle, with a refusing master: the worker exits at once.
func TestStopIdleWithARefusingMaster(t *testing.T) {
	m := newFakePBMaster(t)
	m.answer = refuseShutdown
	stop := make(chan string, 1)
	_, done, _ := startFakeWorker(t, m, Options{Stop: stop})
	m.next()
	stop <- "we got SIGINT"
	if took, err := waitRun(t, done, 10*time.Second); !errors.Is(err, ErrShutdown) || took > 3*time.Second {
		t.Errorf("Run = %v after %v, want ErrShutdown at once", err, took)
	}
	noReconnect(t, m)
}

// The master takes the request, then goes away (restarted mid-shutdown):
// the worker does not reconnect, it exits.
func TestStopWhenTheConnectionEnds(t *testing.T) {
	m := newFakePBMaster(t)
	stop := make(chan string, 1)
	_, done, _ := startFakeWorker(t, m, Options{Stop: stop})
	c := m.next()
	runSleep(t, c, "300")
	stop <- "we got SIGTERM"
	c.waitCall(2, "shutdown")
	c.conn.Close()
	if _, err := waitRun(t, done, 20*time.Second); !errors.Is(err, ErrShutdown) {
		t.Errorf("Run = %v, want ErrShutdown", err)
	}
	noReconnect(t, m)
}

// A master that takes the request but never lets the worker go, with a
// command that would run for ever: the worker exits within its bound.
func TestStopWithinTheBound(t *testing.T) {
	m := newFakePBMaster(t)
	stop := make(chan string, 1)
	_, done, _ := startFakeWorker(t, m, Options{Stop: stop, stopBound: 2 * time.Second})
	c := m.next()
	runSleep(t, c, "300")
	stop <- "we got SIGTERM"
	took, err := waitRun(t, done, 30*time.Second)
	if !errors.Is(err, ErrShutdown) {
		t.Errorf("Run = %v, want ErrShutdown", err)
	}
	if took < 2*time.Second || took > 10*time.Second {
		t.Errorf("the worker exited %v after the stop request, want about its 2 s bound", took)
	}
}
