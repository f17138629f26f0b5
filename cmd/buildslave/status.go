package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/buildslave/buildslave/hostinfo"
	"github.com/buildslave/buildslave/statusfile"
)

// Exit statuses of `status`, after the LSB's for init scripts' status.
const (
	statusConnected    = 0 // running and connected to a master
	statusNotConnected = 1 // running, not connected
	statusNotRunning   = 3 // no worker runs in the directory
	statusUnknown      = 4 // not a worker directory, or unreadable
)

// exitCode ends a command with a given exit status and no message: the
// command has already said what there is to say.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func newStatusCommand(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [flags] [BASEDIR]",
		Short: "Say whether the worker runs and is connected to its master",
		Long: `Show how the worker of BASEDIR (default: the current directory) is doing:
its process, the master it is connected to and since when, the last
connection error, the commands running, and the free disk space.

Exit status: 0 connected, 1 running but not connected, 3 not running,
4 not a worker directory (the LSB convention). --json prints the same as
one JSON object, for scripts.

It reads twistd.pid and buildslave.status, which the worker keeps up to
date, so it works the same whether the worker was started by "start", a
service manager or a container (run it where the worker's process is
visible: inside the container).`,
		Args: atMostOneBasedir,
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := workerStatus(basedirArg(args), time.Now())
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				rep.print(cmd.OutOrStdout(), time.Now())
			}
			if rep.ExitCode != 0 {
				return exitCode(rep.ExitCode)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

// statusReport is what status prints; its JSON form is --json's.
type statusReport struct {
	Basedir  string `json:"basedir"`
	Running  bool   `json:"running"`
	PID      int    `json:"pid,omitempty"`
	ExitCode int    `json:"exit_code"`
	// Summary is the one-line verdict.
	Summary string `json:"summary"`

	Connected bool       `json:"connected"`
	State     string     `json:"state,omitempty"`
	Since     *time.Time `json:"since,omitempty"`
	Master    string     `json:"master,omitempty"`
	Masters   []string   `json:"masters,omitempty"`

	Name     string     `json:"workername,omitempty"`
	Version  string     `json:"version,omitempty"`
	Protocol string     `json:"protocol,omitempty"`
	Started  *time.Time `json:"started,omitempty"`

	LastError         string     `json:"last_error,omitempty"`
	LastErrorAt       *time.Time `json:"last_error_at,omitempty"`
	ReconnectAttempts int        `json:"reconnect_attempts"`
	LastKeepalive     *time.Time `json:"last_keepalive,omitempty"`
	KeepaliveRTT      float64    `json:"keepalive_rtt_seconds,omitempty"`

	Commands []runningCommand `json:"commands"`

	DiskFree uint64 `json:"disk_free_bytes"`
	// StatusUpdated is when the worker last wrote its status file.
	StatusUpdated *time.Time `json:"status_updated,omitempty"`
}

type runningCommand struct {
	Builder string    `json:"builder"`
	Command string    `json:"command"`
	ID      string    `json:"id"`
	Started time.Time `json:"started"`
	Seconds float64   `json:"seconds"`
}

// workerStatus looks at basedir: its pid file says whether the worker
// runs, its status file how it is doing.
func workerStatus(dir string, now time.Time) (*statusReport, error) {
	basedir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("base directory %q: %w", dir, err)
	}
	rep := &statusReport{Basedir: basedir, Commands: []runningCommand{}}
	if err := checkWorkerDir(basedir); err != nil {
		rep.ExitCode, rep.Summary = statusUnknown, err.Error()
		return rep, nil
	}
	rep.DiskFree = hostinfo.DiskFree(basedir)
	p, err := inspectPidFile(basedir)
	if err != nil {
		rep.ExitCode, rep.Summary = statusUnknown, err.Error()
		return rep, nil
	}
	snap, serr := statusfile.Read(basedir)
	haveSnap := serr == nil
	if haveSnap {
		rep.fill(snap, now)
	}
	switch {
	case !p.Live:
		rep.ExitCode = statusNotRunning
		rep.Summary = "not running"
		if p.Exists {
			rep.Summary += " (stale pid file: " + p.Stale + ")"
		}
		// What a dead worker was doing is history, not status.
		rep.Connected, rep.Commands = false, []runningCommand{}
		if haveSnap && snap.State != "stopped" {
			rep.State = "ended unexpectedly while " + snap.State
		}
	case !haveSnap || snap.PID != p.PID:
		rep.Running, rep.PID = true, p.PID
		rep.ExitCode = statusNotConnected
		rep.Summary = fmt.Sprintf("running (pid %d), connection unknown: it keeps no %s (an older buildslave?)", p.PID, statusfile.FileName)
		if haveSnap {
			*rep = statusReport{Basedir: rep.Basedir, Running: true, PID: p.PID, ExitCode: rep.ExitCode,
				Summary: rep.Summary, DiskFree: rep.DiskFree, Commands: []runningCommand{}}
		}
	case snap.Connected:
		rep.Running, rep.PID = true, p.PID
		rep.ExitCode = statusConnected
		rep.Summary = fmt.Sprintf("running (pid %d), connected to %s", p.PID, snap.Master)
	default:
		rep.Running, rep.PID = true, p.PID
		rep.ExitCode = statusNotConnected
		rep.Summary = fmt.Sprintf("running (pid %d), not connected: %s", p.PID, snap.State)
	}
	return rep, nil
}

func (r *statusReport) fill(s statusfile.Snapshot, now time.Time) {
	r.State, r.Connected, r.Master, r.Masters = s.State, s.Connected, s.Master, s.Masters
	r.Name, r.Version, r.Protocol = s.Name, s.Version, s.Protocol
	r.Started, r.Since = timePtr(s.Started), timePtr(s.Since)
	if s.ConnectedSince != nil {
		r.Since = s.ConnectedSince
	}
	r.LastError, r.LastErrorAt = s.LastError, s.LastErrorAt
	r.ReconnectAttempts = s.ReconnectAttempts
	if s.Connected {
		r.ReconnectAttempts = 0
	}
	r.LastKeepalive, r.KeepaliveRTT = s.LastKeepalive, s.KeepaliveRTTSecs
	r.StatusUpdated = timePtr(s.Updated)
	for _, c := range s.Commands {
		r.Commands = append(r.Commands, runningCommand{Builder: c.Builder, Command: c.Name, ID: c.ID,
			Started: c.Started, Seconds: now.Sub(c.Started).Seconds()})
	}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// print writes the report for a person.
func (r *statusReport) print(w io.Writer, now time.Time) {
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-12s %s\n", label+":", fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(w, "%s: %s\n", r.Basedir, r.Summary)
	if r.ExitCode == statusUnknown {
		return
	}
	if r.Name != "" {
		line("worker", "%s (buildslave %s, protocol %s)", r.Name, r.Version, r.Protocol)
	}
	if r.Running && r.Started != nil {
		line("process", "pid %d, started %s", r.PID, when(*r.Started, now))
	}
	switch {
	case !r.Running && r.State != "" && r.StatusUpdated != nil:
		line("last run", "%s; its status was last written %s", r.State, when(*r.StatusUpdated, now))
	case !r.Running:
	case r.Connected:
		line("connection", "connected to %s since %s", r.Master, when(*r.Since, now))
	case r.State != "" && r.Since != nil:
		s := r.State
		if r.Master != "" {
			s += " (" + r.Master + ")"
		}
		line("connection", "not connected since %s; now %s", when(*r.Since, now), s)
	}
	if len(r.Masters) > 1 {
		line("masters", "%s (tried in this order)", strings.Join(r.Masters, ", "))
	}
	if r.LastError != "" && r.LastErrorAt != nil {
		line("last error", "%s (at %s)", r.LastError, when(*r.LastErrorAt, now))
	}
	if r.Running && !r.Connected {
		line("attempts", "%d connection attempts since last connected", r.ReconnectAttempts)
	}
	if r.Connected && r.LastKeepalive != nil {
		line("keepalive", "answered %s in %s", when(*r.LastKeepalive, now), (time.Duration(r.KeepaliveRTT * float64(time.Second))).Round(time.Microsecond))
	}
	if r.Running {
		if len(r.Commands) == 0 {
			line("commands", "none running")
		}
		for i, c := range r.Commands {
			label := ""
			if i == 0 {
				label = "commands"
			}
			fmt.Fprintf(w, "%-12s %s: %s (command %s) for %s\n", label+strings.Repeat(":", min(1, len(label))),
				c.Builder, c.Command, c.ID, time.Duration(c.Seconds*float64(time.Second)).Round(time.Second))
		}
	}
	if r.DiskFree > 0 {
		line("disk free", "%s in %s", hostinfo.Bytes(r.DiskFree), r.Basedir)
	}
}

// when shows a moment with how long ago it was.
func when(t, now time.Time) string {
	ago := now.Sub(t).Round(time.Second)
	if ago < 0 {
		ago = 0
	}
	return fmt.Sprintf("%s, %s ago", t.Local().Format("2006-01-02 15:04:05 MST"), ago)
}
