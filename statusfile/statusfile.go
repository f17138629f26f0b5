// Package statusfile keeps BASEDIR/buildslave.status, a small JSON file
// saying how a running worker is doing: connected or not, to which master,
// since when, the last connection error, the commands running. The worker
// rewrites it on every change (a burst of changes in one write, 50 ms
// late), atomically (a temporary file renamed over the old one), so
// that `buildslave status` and any script read a whole file, however the
// worker was started: by `start`, a service manager or a container's entry
// point. It holds nothing secret.
package statusfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/buildslave/buildslave/agent"
	"github.com/buildslave/buildslave/internal/sharedfile"
)

// FileName is the status file's name in the base directory.
const FileName = "buildslave.status"

// heartbeat is how often an unchanged status is written again, so that
// Updated says the worker is alive even where its pid cannot be checked
// (another container sharing the directory).
const heartbeat = time.Minute

// writeGap is how long a change waits to be written: what changes
// meanwhile is written with it.
const writeGap = 50 * time.Millisecond

// Snapshot is the status file's content.
type Snapshot struct {
	PID      int    `json:"pid"`
	Version  string `json:"version"`
	Name     string `json:"workername"`
	Basedir  string `json:"basedir"`
	Protocol string `json:"protocol"`
	// Masters are the configured masters in the order they are tried.
	Masters []string  `json:"masters"`
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated"`

	// State is the connection state ("connecting", "connected",
	// "disconnected", "login refused", "stopped").
	State     string `json:"state"`
	Connected bool   `json:"connected"`
	// Since is when the worker last became connected, or not connected.
	Since time.Time `json:"since"`
	// Master is the master connected to, or being dialled.
	Master string `json:"master,omitempty"`
	// ConnectedSince is when the current connection logged in.
	ConnectedSince *time.Time `json:"connected_since,omitempty"`

	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	// ReconnectAttempts counts the connection attempts since the worker
	// was last connected (or started), the current one included.
	ReconnectAttempts int `json:"reconnect_attempts"`
	// Connections counts logins since the worker started.
	Connections int `json:"connections"`

	LastKeepalive    *time.Time `json:"last_keepalive,omitempty"`
	KeepaliveRTTSecs float64    `json:"keepalive_rtt_seconds,omitempty"`

	Commands []Command `json:"commands"`
}

// Command is one running command.
type Command struct {
	Builder string    `json:"builder"`
	Name    string    `json:"command"`
	ID      string    `json:"id"`
	Started time.Time `json:"started"`
}

// Recorder is an agent.Observer that keeps the status file up to date.
// Writes happen on its own goroutine, never in the observer's callers.
type Recorder struct {
	path string
	log  *slog.Logger

	mu     sync.Mutex
	snap   Snapshot
	dirty  chan struct{}
	done   chan struct{}
	closed bool
	// written is the last snapshot written, marshalled without its time.
	written []byte
	writes  int // files written, for the tests
}

// Identity is what a Recorder states about the worker besides its
// connection.
type Identity struct {
	PID      int
	Version  string
	Name     string
	Basedir  string
	Protocol string
	Masters  []string
}

// NewRecorder starts keeping basedir's status file and writes it once at
// once, so that a failure to write it is found at start. Close stops it.
func NewRecorder(basedir string, id Identity, logger *slog.Logger) (*Recorder, error) {
	if logger == nil {
		logger = slog.Default()
	}
	now := time.Now()
	r := &Recorder{
		path:  filepath.Join(basedir, FileName),
		log:   logger,
		dirty: make(chan struct{}, 1),
		done:  make(chan struct{}),
		snap: Snapshot{
			PID: id.PID, Version: id.Version, Name: id.Name, Basedir: id.Basedir,
			Protocol: id.Protocol, Masters: slices.Clone(id.Masters),
			Started: now, State: "starting", Since: now, Commands: []Command{},
		},
	}
	if err := r.write(true); err != nil {
		return nil, err
	}
	go r.writer()
	return r, nil
}

// Close writes the final status (state "stopped" when the run reported
// it) and stops the writer.
func (r *Recorder) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	r.mu.Unlock()
	close(r.dirty)
	<-r.done
}

func (r *Recorder) writer() {
	defer close(r.done)
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case _, ok := <-r.dirty:
			if !ok {
				r.writeLogged(true)
				return
			}
			// What follows at once (a command's end, the next command's
			// start: a build's short steps come in bursts) is written
			// with it, after a pause, instead of one write each: every
			// write costs a file created and renamed. A command that
			// starts and ends within the pause leaves the status as it
			// was, and then nothing is written.
			if !r.pause() {
				r.writeLogged(true)
				return
			}
			r.writeLogged(false)
		case <-tick.C:
			r.writeLogged(true)
		}
	}
}

// pause waits writeGap and says whether the recorder is still open.
func (r *Recorder) pause() (open bool) {
	gap := time.NewTimer(writeGap)
	defer gap.Stop()
	for {
		select {
		case _, ok := <-r.dirty:
			if !ok {
				return false
			}
		case <-gap.C:
			return true
		}
	}
}

// writeLogged writes the status file, unless nothing but the time would
// change in it and always is false.
func (r *Recorder) writeLogged(always bool) {
	if err := r.write(always); err != nil {
		r.log.Warn("cannot update the status file", "err", err)
	}
}

func (r *Recorder) write(always bool) error {
	r.mu.Lock()
	// The snapshot as it would be written, but for the time: compared
	// with the last one written to leave out writes that say nothing new.
	r.snap.Updated = time.Time{}
	said, err := json.Marshal(r.snap)
	if err != nil {
		r.mu.Unlock()
		return err
	}
	if !always && bytes.Equal(said, r.written) {
		r.mu.Unlock()
		return nil
	}
	r.written = said
	r.snap.Updated = time.Now()
	r.writes++
	data, err := json.MarshalIndent(r.snap, "", "  ")
	r.mu.Unlock()
	if err != nil {
		return err
	}
	return writeAtomic(r.path, append(data, '\n'))
}

// writeAtomic replaces path with data so that a reader sees the old file
// or the new one, never a part.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing the status file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// A reader on Windows may hold the old file for an instant.
	if err := sharedfile.Retry(func() error { return os.Rename(tmp.Name(), path) }); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// update changes the snapshot and has it written soon.
func (r *Recorder) update(change func(*Snapshot)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	change(&r.snap)
	select {
	case r.dirty <- struct{}{}:
	default: // a write is already due; it will carry this change
	}
}

// StateChanged implements agent.Observer.
func (r *Recorder) StateChanged(s agent.Status) {
	now := time.Now()
	r.update(func(sn *Snapshot) {
		connected := s.State == agent.StateConnected
		// Since is when the worker became connected or not connected:
		// connecting and disconnected alternate while a master is down.
		if connected != sn.Connected || sn.State == "starting" {
			sn.Since = now
		}
		sn.State, sn.Connected = s.State.String(), connected
		if s.Master != "" {
			sn.Master = s.Master
		}
		switch s.State {
		case agent.StateConnecting:
			sn.ReconnectAttempts++
		case agent.StateConnected:
			sn.ReconnectAttempts = 0
			sn.Connections++
			sn.ConnectedSince = &now
		default:
			sn.ConnectedSince = nil
		}
		// A graceful shutdown is how a run ends, not a connection error.
		if s.Err != nil && !errors.Is(s.Err, agent.ErrShutdown) {
			sn.LastError, sn.LastErrorAt = oneLine(s.Err.Error()), &now
		}
	})
}

// KeepaliveAnswered implements agent.Observer.
func (r *Recorder) KeepaliveAnswered(rtt time.Duration) {
	now := time.Now()
	r.update(func(sn *Snapshot) {
		sn.LastKeepalive, sn.KeepaliveRTTSecs = &now, rtt.Seconds()
	})
}

// CommandStarted implements agent.Observer.
func (r *Recorder) CommandStarted(c agent.CommandInfo) {
	r.update(func(sn *Snapshot) {
		sn.Commands = append(sn.Commands, Command{Builder: c.Builder, Name: c.Name, ID: c.ID, Started: c.Started})
	})
}

// CommandFinished implements agent.Observer.
func (r *Recorder) CommandFinished(c agent.CommandInfo, _ agent.CommandResult) {
	r.update(func(sn *Snapshot) {
		sn.Commands = slices.DeleteFunc(sn.Commands, func(x Command) bool {
			return x.Builder == c.Builder && x.ID == c.ID && x.Started.Equal(c.Started)
		})
	})
}

// Transferred implements agent.Observer; the status file does not count bytes.
func (r *Recorder) Transferred(bool, int) {}

// OutputLines implements agent.Observer; the status file does not count lines.
func (r *Recorder) OutputLines(int) {}

// Read reads basedir's status file. A missing file is an error that
// errors.Is(err, os.ErrNotExist).
func Read(basedir string) (Snapshot, error) {
	var s Snapshot
	// Shared, so that the worker can replace the file while it is read.
	data, err := sharedfile.ReadFile(filepath.Join(basedir, FileName))
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("%s: %w", filepath.Join(basedir, FileName), err)
	}
	return s, nil
}

// IsNotExist reports whether err says there is no status file.
func IsNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }

func oneLine(s string) string {
	out := []rune(s)
	for i, c := range out {
		if c == '\n' || c == '\r' || c == '\t' {
			out[i] = ' '
		}
	}
	return string(out)
}
