package store

import (
	"errors"
	"fmt"
	"regexp"
	"time"
	"unicode"
	"unicode/utf8"
)

// Pool is a set of masters that share a set of workers.
type Pool struct {
	Name string `json:"name"`
}

// PoolInfo is a pool with its head counts, as listed.
type PoolInfo struct {
	Name    string `json:"name"`
	Masters int    `json:"masters"`
	Workers int    `json:"workers"`
}

// Master is a Buildbot master workers can be given.
type Master struct {
	Name        string `json:"name"`
	Host        string `json:"host"`
	PBPort      int    `json:"pb_port"`
	MsgpackPort int    `json:"msgpack_port,omitempty"` // 0: the master has no msgpack port
	Pool        string `json:"pool"`
	Enabled     bool   `json:"enabled"`
	// Workers counts the workers currently assigned to the master.
	Workers int `json:"workers"`
	// Version grows with every change; see If-Match in the server.
	Version int64 `json:"version"`
}

// Worker is one worker of the fleet.
type Worker struct {
	Name string `json:"name"`
	// Password is only filled in by the store's calls that say so; the
	// server sends it only to callers with a token.
	Password string `json:"password,omitempty"`
	Pool     string `json:"pool"`
	Enabled  bool   `json:"enabled"`
	// LockedMaster, when set, is the master the worker always gets.
	LockedMaster string `json:"locked_master,omitempty"`
	// CurrentMaster is the master the worker was last given.
	CurrentMaster string     `json:"current_master,omitempty"`
	Notes         string     `json:"notes"`
	LastFetch     *time.Time `json:"last_fetch,omitempty"`
	LastFetchAddr string     `json:"last_fetch_addr,omitempty"`
	Version       int64      `json:"version,omitempty"`
}

// MasterPatch changes the fields it sets.
type MasterPatch struct {
	Host        *string `json:"host"`
	PBPort      *int    `json:"pb_port"`
	MsgpackPort *int    `json:"msgpack_port"`
	Pool        *string `json:"pool"`
	Enabled     *bool   `json:"enabled"`
}

// WorkerPatch changes the fields it sets. Moves and locks have calls of
// their own, which check the target master.
type WorkerPatch struct {
	Password *string `json:"password"`
	Pool     *string `json:"pool"`
	Enabled  *bool   `json:"enabled"`
	Notes    *string `json:"notes"`
}

// Errors the store's callers tell apart (wrapped with a message that says
// which object and why).
var (
	ErrNotFound    = errors.New("not found")
	ErrConflict    = errors.New("conflict")
	ErrInvalid     = errors.New("invalid")
	ErrUnavailable = errors.New("unavailable")
)

func notFound(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrNotFound)
}

func conflict(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrConflict)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalid)
}

// Names of pools, masters and workers end up in URLs, tac files and
// command lines: a conservative alphabet keeps them safe in all three.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$`)

// hostRE accepts host names and IPv4 or IPv6 addresses.
var hostRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,253}$`)

// CheckName validates the name of a pool, master or worker.
func CheckName(kind, name string) error {
	if !nameRE.MatchString(name) {
		return invalid("%s name %q must be 1-100 letters, digits or ._@+- and start with a letter or digit", kind, name)
	}
	return nil
}

func checkMaster(m *Master) error {
	if err := CheckName("master", m.Name); err != nil {
		return err
	}
	if err := CheckName("pool", m.Pool); err != nil {
		return err
	}
	if !hostRE.MatchString(m.Host) {
		return invalid("master %s: host %q is not a host name or address", m.Name, m.Host)
	}
	if m.PBPort < 1 || m.PBPort > 65535 {
		return invalid("master %s: pb_port %d is out of range 1..65535", m.Name, m.PBPort)
	}
	if m.MsgpackPort < 0 || m.MsgpackPort > 65535 {
		return invalid("master %s: msgpack_port %d is out of range 0..65535", m.Name, m.MsgpackPort)
	}
	return nil
}

// CheckPassword validates a worker's password: it goes into a tac and a
// TOML file, so it must be text without control characters.
func CheckPassword(pw string) error {
	if pw == "" {
		return invalid("the password is empty")
	}
	if len(pw) > 1024 || !utf8.ValidString(pw) {
		return invalid("the password must be valid UTF-8 of at most 1024 bytes")
	}
	for _, r := range pw {
		if unicode.IsControl(r) {
			return invalid("the password contains a control character")
		}
	}
	return nil
}

func checkWorker(w *Worker) error {
	if err := CheckName("worker", w.Name); err != nil {
		return err
	}
	if err := CheckName("pool", w.Pool); err != nil {
		return err
	}
	if err := CheckPassword(w.Password); err != nil {
		return fmt.Errorf("worker %s: %w", w.Name, err)
	}
	return checkNotes(w.Notes)
}

func checkNotes(s string) error {
	if len(s) > 10000 || !utf8.ValidString(s) {
		return invalid("notes must be valid UTF-8 of at most 10000 bytes")
	}
	return nil
}
