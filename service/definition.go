package service

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// StopTimeout is how long a service manager waits for the worker to stop
// before killing it and its builds. Stopping asks the worker for a
// graceful shutdown, which waits for the running build: an hour covers
// the builds volunteers usually run (Buildbot's own default step timeout
// is 20 minutes without output) without holding a reboot up for ever.
// Someone in a hurry sends a second SIGTERM (or runs 'buildslave stop'),
// which stops the worker at once. The worker bounds its own stop at
// agent.StopBound (55 minutes), below this, so that it ends its builds
// itself rather than being killed with them (a test in cmd/buildslave
// keeps the two apart).
const StopTimeout = time.Hour

// RestartDelay is how long a service manager waits before starting a
// worker that exited again. The worker retries lost connections itself;
// this only paces restarts after it gave up or failed to start, slowly
// enough that systemd's start-rate limit never gives up on it.
const RestartDelay = 30 * time.Second

// DefaultNamePrefix starts the service name derived from a base directory.
const DefaultNamePrefix = "buildslave-"

// Definition is one worker as a service.
type Definition struct {
	// Name is the service's name (the systemd unit without ".service",
	// the launchd label, the Windows service name).
	Name string
	// Executable is the absolute path of the buildslave program.
	Executable string
	// Basedir is the worker's absolute base directory.
	Basedir string
	// User is the account the worker runs as; empty means the service
	// manager's default (root, or LocalSystem on Windows).
	User string
}

// validName is what every service manager accepts as a name, and what a
// shell and a file name take without quoting.
var validName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// DefaultName derives a service name from a worker's base directory, so
// that several workers on one machine get distinct services:
// /home/alice/worker becomes buildslave-worker.
func DefaultName(basedir string) string {
	base := filepath.Base(basedir)
	var b strings.Builder
	for _, r := range base {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), ".-")
	if name == "" {
		return strings.TrimSuffix(DefaultNamePrefix, "-")
	}
	return DefaultNamePrefix + name
}

// Validate reports what, if anything, no service manager would take.
func (d Definition) Validate() error {
	if !validName.MatchString(d.Name) {
		return fmt.Errorf("service name %q: use letters, digits, '_', '.' and '-' only", d.Name)
	}
	if !isAbs(d.Executable) {
		return fmt.Errorf("the program's path %q is not absolute", d.Executable)
	}
	if !isAbs(d.Basedir) {
		return fmt.Errorf("the base directory %q is not absolute", d.Basedir)
	}
	for what, v := range map[string]string{"program path": d.Executable, "base directory": d.Basedir, "user": d.User} {
		if err := plainText(v); err != nil {
			return fmt.Errorf("%s %q: %w", what, v, err)
		}
	}
	if strings.ContainsAny(d.User, " \t") {
		return fmt.Errorf("user %q: a user name has no blanks", d.User)
	}
	return nil
}

// isAbs accepts both Unix and Windows absolute paths, so that every
// definition can be generated (and tested) on every system.
func isAbs(p string) bool {
	if strings.HasPrefix(p, "/") {
		return true
	}
	// C:\dir, C:/dir, \\server\share
	if len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') {
		return true
	}
	return strings.HasPrefix(p, `\\`)
}

// plainText rejects what the definition formats cannot carry: line breaks
// end a unit's line or a crontab entry, NUL ends everything, and "{{"
// would be taken for a template action by kardianos, which renders our
// definitions through its template engine.
func plainText(v string) error {
	switch {
	case strings.ContainsAny(v, "\n\r\x00"):
		return errors.New("line breaks and NUL are not allowed")
	case strings.Contains(v, "{{"):
		return errors.New(`"{{" is not allowed`)
	}
	return nil
}

// unixArguments are the worker's arguments under systemd and the other
// Unix service managers: start --nodaemon, as a person would run it.
func (d Definition) unixArguments() []string {
	return []string{"start", "--nodaemon", d.Basedir}
}

// launchdArguments add --quiet: launchd appends stderr to a file that
// nothing rotates, so the worker's log goes only to twistd.log (which
// rotates) and the file keeps what escapes the log, such as a crash.
func (d Definition) launchdArguments() []string {
	return []string{"start", "--nodaemon", "--quiet", d.Basedir}
}

// windowsArguments run the worker under the service control manager,
// which a plain start cannot talk to.
func (d Definition) windowsArguments() []string {
	return []string{"service", "run", "--name", d.Name, d.Basedir}
}
