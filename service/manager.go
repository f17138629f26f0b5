package service

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"

	kservice "github.com/kardianos/service"
)

// ErrNoServiceManager: kardianos found no service manager it knows on
// this system (a container, a chroot, an unusual init).
var ErrNoServiceManager = errors.New("no service manager found on this system")

// Status is a service's state as 'buildslave service status' prints it.
type Status int

// The states of a service.
const (
	NotInstalled Status = iota
	Running
	Stopped
	Unknown
)

func (s Status) String() string {
	switch s {
	case NotInstalled:
		return "not installed"
	case Running:
		return "installed, running"
	case Stopped:
		return "installed, stopped"
	}
	return "installed, state unknown"
}

// Manager controls one worker's service through the system's service
// manager.
type Manager struct {
	def Definition
	svc kservice.Service
}

// Platform names the service manager in use ("linux-systemd",
// "darwin-launchd", "windows-service", "unix-systemv"…), or "" when there
// is none.
func Platform() string {
	return kservice.Platform()
}

// NewManager prepares d for the system's service manager. password is the
// Windows account's password, ignored elsewhere.
func NewManager(d Definition, password string) (*Manager, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	cfg, err := kardianosConfig(d, password)
	if err != nil {
		return nil, err
	}
	svc, err := kservice.New(idle{}, cfg)
	if errors.Is(err, kservice.ErrNoServiceSystemDetected) {
		return nil, ErrNoServiceManager
	}
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", d.Name, err)
	}
	return &Manager{def: d, svc: svc}, nil
}

// kardianosConfig hands our own definitions to kardianos: it installs
// them as they are, in the place and with the commands each manager
// expects. Managers we have no definition for (upstart, OpenRC, rc.d) get
// kardianos' stock scripts running the same command line.
func kardianosConfig(d Definition, password string) (*kservice.Config, error) {
	unit, err := SystemdUnit(d)
	if err != nil {
		return nil, err
	}
	plist, err := LaunchdPlist(d)
	if err != nil {
		return nil, err
	}
	sysv, err := SysVScript(d)
	if err != nil {
		return nil, err
	}
	args := d.unixArguments()
	switch runtime.GOOS {
	case "darwin":
		args = d.launchdArguments()
	case "windows":
		args = d.windowsArguments()
	}
	return &kservice.Config{
		Name:             d.Name,
		DisplayName:      displayName(d),
		Description:      description(d),
		UserName:         d.User,
		Executable:       d.Executable,
		Arguments:        args,
		WorkingDirectory: d.Basedir,
		Option: kservice.KeyValue{
			"SystemdScript":          unit,
			"LaunchdConfig":          plist,
			"SysvScript":             sysv,
			"KeepAlive":              true,
			"RunAtLoad":              true,
			"Restart":                "always",
			"Password":               password,
			"StartType":              "automatic",
			"OnFailure":              "restart",
			"OnFailureDelayDuration": RestartDelay.String(),
		},
	}, nil
}

// Install, Uninstall, Start, Stop and Restart do what the service manager
// does under those names; Stop and Restart wait for the worker's graceful
// shutdown as long as the manager does.
func (m *Manager) Install() error { return m.wrap("installing", m.svc.Install()) }
func (m *Manager) Uninstall() error {
	err := m.svc.Uninstall()
	if err == nil && m.svc.Platform() == "unix-systemv" {
		removeSysVLinks(m.def.Name)
	}
	return m.wrap("removing", err)
}
func (m *Manager) Start() error   { return m.wrap("starting", m.svc.Start()) }
func (m *Manager) Stop() error    { return m.wrap("stopping", m.svc.Stop()) }
func (m *Manager) Restart() error { return m.wrap("restarting", m.svc.Restart()) }

// Status asks the service manager about the service.
func (m *Manager) Status() (Status, error) {
	if m.svc.Platform() == "unix-systemv" {
		return m.sysvStatus()
	}
	st, err := m.svc.Status()
	switch {
	case errors.Is(err, kservice.ErrNotInstalled):
		return NotInstalled, nil
	case err != nil && m.svc.Platform() == "unix-systemv" && !exists("/etc/init.d/"+m.def.Name):
		// kardianos asks 'service NAME status', which fails for a
		// script that is not there rather than saying so.
		return NotInstalled, nil
	case err != nil:
		return Unknown, m.wrap("querying", err)
	case st == kservice.StatusRunning:
		return Running, nil
	case st == kservice.StatusStopped:
		return Stopped, nil
	}
	return Unknown, nil
}

// sysvStatus asks our init script (see SysVScript) and reads its LSB exit
// status: kardianos takes any status but 0 for an error, so a stopped
// worker (3) came out as "querying service ...: exit status 1".
func (m *Manager) sysvStatus() (Status, error) {
	script := "/etc/init.d/" + m.def.Name
	if !exists(script) {
		return NotInstalled, nil
	}
	err := exec.Command(script, "status").Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return Running, nil
	case errors.As(err, &exit) && exit.ExitCode() >= 1 && exit.ExitCode() <= 3:
		// 1 and 2: dead, leaving a pid file or lock; 3: not running.
		return Stopped, nil
	case errors.As(err, &exit):
		return Unknown, nil
	}
	return Unknown, m.wrap("querying", err)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func (m *Manager) wrap(doing string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s service %s (%s): %w", doing, m.def.Name, m.svc.Platform(), err)
}

// idle is the program kardianos would run: a Manager only controls the
// service from outside.
type idle struct{}

func (idle) Start(kservice.Service) error { return nil }
func (idle) Stop(kservice.Service) error  { return nil }

// Program is a worker run by the service manager: Start must return at
// once, Stop when the worker has stopped. Shutdown is Stop when the
// system itself is shutting down, and gives the worker little time.
type Program interface {
	Start() error
	Stop() error
	Shutdown() error
}

// Run runs p as the service name until the service manager stops it. It
// is for Windows, whose service control manager talks to the program it
// starts; systemd and launchd just start and signal it.
func Run(name string, p Program) error {
	svc, err := kservice.New(program{p}, &kservice.Config{Name: name})
	if errors.Is(err, kservice.ErrNoServiceSystemDetected) {
		return ErrNoServiceManager
	}
	if err != nil {
		return fmt.Errorf("service %s: %w", name, err)
	}
	return svc.Run()
}

// Interactive reports whether this process runs from a terminal or a
// person's session, rather than under the service manager.
func Interactive() bool {
	return kservice.Interactive()
}

type program struct{ p Program }

func (p program) Start(kservice.Service) error { return p.p.Start() }
func (p program) Stop(kservice.Service) error  { return p.p.Stop() }

// Shutdown makes program a kardianos Shutdowner: Windows tells a system
// shutdown from a stop.
func (p program) Shutdown(kservice.Service) error { return p.p.Shutdown() }
