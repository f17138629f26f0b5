package statusfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/buildslave/buildslave/agent"
)

// waitStatus polls the file until check holds.
func waitStatus(t *testing.T, dir string, check func(Snapshot) bool) Snapshot {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, err := Read(dir)
		if err == nil && check(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("status file never matched; last %+v, %v", s, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRecorderFollowsTheWorker(t *testing.T) {
	dir := t.TempDir()
	if _, err := Read(dir); !IsNotExist(err) {
		t.Fatalf("Read of a directory without a status file: %v", err)
	}
	r, err := NewRecorder(dir, Identity{PID: 42, Version: "1.0", Name: "w1", Basedir: dir, Protocol: "pb", Masters: []string{"m1:9989", "m2:9989"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := Read(dir); err != nil || s.PID != 42 || s.State != "starting" || len(s.Masters) != 2 {
		t.Errorf("first write: %+v, %v", s, err)
	}
	r.StateChanged(agent.Status{State: agent.StateConnecting, Master: "m1:9989"})
	r.StateChanged(agent.Status{State: agent.StateDisconnected, Master: "m1:9989", Err: errors.New("refused\nfor good")})
	r.StateChanged(agent.Status{State: agent.StateConnecting, Master: "m2:9989"})
	s := waitStatus(t, dir, func(s Snapshot) bool { return s.ReconnectAttempts == 2 })
	if s.Connected || s.Master != "m2:9989" || s.LastError != "refused for good" || s.LastErrorAt == nil {
		t.Errorf("after a failure: %+v", s)
	}
	r.StateChanged(agent.Status{State: agent.StateConnected, Master: "m2:9989"})
	c := agent.CommandInfo{Builder: "b1", ID: "7", Name: "shell", Started: time.Now()}
	r.CommandStarted(c)
	s = waitStatus(t, dir, func(s Snapshot) bool { return len(s.Commands) == 1 })
	if !s.Connected || s.ConnectedSince == nil || s.ReconnectAttempts != 0 || s.Connections != 1 ||
		s.Commands[0].Builder != "b1" || s.Commands[0].Name != "shell" || s.Commands[0].ID != "7" || !s.Commands[0].Started.Equal(c.Started) {
		t.Errorf("connected and busy: %+v", s)
	}
	r.CommandFinished(c, agent.CommandResult{Result: agent.ResultSuccess})
	r.StateChanged(agent.Status{State: agent.StateStopped})
	r.Close()
	r.StateChanged(agent.Status{State: agent.StateConnecting}) // after Close: ignored, no panic
	s, err = Read(dir)
	if err != nil || s.State != "stopped" || len(s.Commands) != 0 {
		t.Errorf("after Close: %+v, %v", s, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, FileName)); err != nil || (fi.Mode().Perm() != 0o644 && runtime.GOOS != "windows") {
		t.Errorf("status file mode: %v, %v", fi, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// A burst of changes, as a build's short steps make, is written in a few
// files, not one per change, and the last one says how things ended.
func TestBurstsAreWrittenTogether(t *testing.T) {
	dir := t.TempDir()
	r, err := NewRecorder(dir, Identity{PID: 1, Name: "w1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	const commands = 100
	for i := range commands {
		c := agent.CommandInfo{Builder: "b", ID: fmt.Sprint(i), Name: "stat", Started: time.Now()}
		r.CommandStarted(c)
		r.CommandFinished(c, agent.CommandResult{})
	}
	last := agent.CommandInfo{Builder: "b", ID: "last", Name: "shell", Started: time.Now()}
	r.CommandStarted(last)
	s := waitStatus(t, dir, func(s Snapshot) bool { return len(s.Commands) == 1 && s.Commands[0].ID == "last" })
	r.mu.Lock()
	writes := r.writes
	r.mu.Unlock()
	// One write at start, one or two for the burst; a loaded machine may
	// split the burst once more.
	if writes > 10 {
		t.Errorf("%d changes took %d writes", 2*commands+1, writes)
	}
	t.Logf("%d changes, %d writes; last: %+v", 2*commands+1, writes, s.Commands)
}

// A command that ends before its start is written leaves the status as
// it was: nothing is written for it, as nothing would be said.
func TestAShortCommandWritesNothing(t *testing.T) {
	dir := t.TempDir()
	r, err := NewRecorder(dir, Identity{PID: 1, Name: "w1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.StateChanged(agent.Status{State: agent.StateConnected, Master: "m1:9989"})
	waitStatus(t, dir, func(s Snapshot) bool { return s.Connected })
	writes := func() int {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.writes
	}
	before := writes()
	c := agent.CommandInfo{Builder: "b", ID: "1", Name: "shell", Started: time.Now()}
	r.CommandStarted(c)
	r.CommandFinished(c, agent.CommandResult{})
	time.Sleep(4 * writeGap)
	if got := writes(); got != before {
		t.Errorf("a command that started and ended within one pause took %d writes, want none", got-before)
	}
	// A change that stays is written.
	r.CommandStarted(c)
	waitStatus(t, dir, func(s Snapshot) bool { return len(s.Commands) == 1 })
}

// A reader never sees a partial file, however busy the writer.
func TestStatusFileIsAlwaysWhole(t *testing.T) {
	dir := t.TempDir()
	r, err := NewRecorder(dir, Identity{PID: 1, Name: "w1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			c := agent.CommandInfo{Builder: "b", ID: string(rune('a' + i%26)), Name: "shell", Started: time.Now()}
			r.CommandStarted(c)
			r.CommandFinished(c, agent.CommandResult{})
		}
	}()
	for range 300 {
		if _, err := Read(dir); err != nil {
			t.Fatalf("a read saw a broken file: %v", err)
		}
	}
	close(stop)
	wg.Wait()
}

func TestNewRecorderFailsOnAnUnwritableDirectory(t *testing.T) {
	if _, err := NewRecorder(filepath.Join(t.TempDir(), "missing"), Identity{}, nil); err == nil {
		t.Errorf("a recorder started without a directory to write in")
	}
}
