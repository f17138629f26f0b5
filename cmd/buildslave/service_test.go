package main

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	kservice "github.com/kardianos/service"

	"github.com/buildslave/buildslave/agent"
	"github.com/buildslave/buildslave/service"
)

func TestServiceInstallDryRun(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the dry run prints a systemd unit on Linux only")
	}
	dir := workerDir(t)
	code, out, errOut := run(t, "service", "install", "--dry-run", "--manager", "systemd", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	unit, err := service.ParseSystemdUnit(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	execStart, _ := unit.Get("Service", "ExecStart")
	argv, err := service.SplitSystemdCommand(execStart)
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{exe, "start", "--nodaemon", dir}; !slices.Equal(argv, want) {
		t.Errorf("ExecStart runs %q, want %q", argv, want)
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	// The configuration's owner, the one account that can read it.
	if u, _ := unit.Get("Service", "User"); u != me.Username {
		t.Errorf("User = %q, want %q", u, me.Username)
	}
	if !strings.Contains(out, "# Buildbot worker "+service.DefaultName(dir)+",") {
		t.Errorf("the unit does not name its service %s:\n%s", service.DefaultName(dir), out)
	}

	code, out, errOut = run(t, "service", "install", "--dry-run", "--manager", "systemd", "--user", "bb", "--name", "ci-worker", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	unit, err = service.ParseSystemdUnit(out)
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := unit.Get("Service", "User"); u != "bb" || !strings.Contains(out, "# Buildbot worker ci-worker,") {
		t.Errorf("--user bb --name ci-worker:\n%s", out)
	}
}

func TestServiceInstallRelativeBasedir(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the dry run prints a systemd unit on Linux only")
	}
	dir := workerDir(t)
	t.Chdir(filepath.Dir(dir))
	code, out, errOut := run(t, "service", "install", "--dry-run", "--manager", "systemd", filepath.Base(dir))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	unit, err := service.ParseSystemdUnit(out)
	if err != nil {
		t.Fatal(err)
	}
	if wd, _ := unit.Get("Service", "WorkingDirectory"); wd != dir {
		t.Errorf("WorkingDirectory = %q, want the absolute %q", wd, dir)
	}
}

func TestServiceInstallBadBasedir(t *testing.T) {
	empty := t.TempDir()
	file := filepath.Join(empty, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dir, want string }{
		{filepath.Join(empty, "missing"), "does not exist"},
		{empty, "has no buildslave.cfg"},
		{file, "is not a directory"},
	} {
		for _, args := range [][]string{
			{"service", "install", "--dry-run", "--manager", "systemd", tc.dir},
			{"service", "install", tc.dir},
			{"boot-hook", "cron", tc.dir},
		} {
			code, out, errOut := run(t, args...)
			if code == 0 || !strings.Contains(errOut, tc.want) || out != "" {
				t.Errorf("%q: exit %d, stdout %q, stderr %q; want an error saying %q", args, code, out, errOut, tc.want)
			}
		}
	}
}

func TestServiceInstallBadName(t *testing.T) {
	dir := workerDir(t)
	code, _, errOut := run(t, "service", "install", "--dry-run", "--manager", "systemd", "--name", "../../etc/evil", dir)
	if code == 0 || !strings.Contains(errOut, "service name") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestServiceNeedsPrivileges(t *testing.T) {
	if service.CheckPrivileged() == nil {
		t.Skip("running with privileges; a real install is not for tests")
	}
	dir := workerDir(t)
	for _, args := range [][]string{
		{"service", "install", dir},
		{"service", "start", dir},
		{"service", "stop", dir},
		{"service", "uninstall", dir},
	} {
		code, _, errOut := run(t, args...)
		if code == 0 || !strings.Contains(errOut, service.ErrNotPrivileged.Error()) {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
}

func TestServicePasswordOnlyOnWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows takes the password")
	}
	dir := workerDir(t)
	code, out, errOut := run(t, "service", "install", "--password", "hunter2-secret", dir)
	if code == 0 || !strings.Contains(errOut, "--password") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if strings.Contains(out+errOut, "hunter2-secret") {
		t.Errorf("the password was printed: %q %q", out, errOut)
	}
}

func TestServiceRunOutsideWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows runs services this way")
	}
	code, _, errOut := run(t, "service", "run", "--name", "x", workerDir(t))
	if code == 0 || !strings.Contains(errOut, "start --nodaemon") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestServiceDefinitionTextPerSystem(t *testing.T) {
	d := service.Definition{Name: "buildslave-w", Executable: "/usr/bin/buildslave", Basedir: "/w", User: "bb"}
	for goos, want := range map[string]string{
		"linux":   "ExecStart=/usr/bin/buildslave start --nodaemon /w\n",
		"darwin":  "<string>--quiet</string>",
		"windows": "service run --name buildslave-w /w",
		"freebsd": "/usr/bin/buildslave start --nodaemon /w",
		"sysv":    "exe=/usr/bin/buildslave\nbasedir=/w\nuser=bb\n",
	} {
		text, err := serviceDefinitionText(d, false, goos)
		if err != nil || !strings.Contains(text, want) {
			t.Errorf("%s: %v\n%s\nlacks %q", goos, err, text, want)
		}
	}
}

func TestServiceWithoutServiceManager(t *testing.T) {
	// kardianos picks the system's service manager once, globally: hide
	// them all for this test.
	systems := kservice.AvailableSystems()
	kservice.ChooseSystem()
	t.Cleanup(func() { kservice.ChooseSystem(systems...) })

	d := service.Definition{Name: "buildslave-w", Executable: "/usr/bin/buildslave", Basedir: "/srv/w"}
	_, err := newServiceManager(d, "", "/srv/w")
	if !errors.Is(err, service.ErrNoServiceManager) || !strings.Contains(err.Error(), "buildslave boot-hook cron /srv/w") {
		t.Errorf("error %v, want ErrNoServiceManager offering the cron boot hook", err)
	}
}

// The worker bounds its own stop below the service managers' stop timeout,
// so that it ends its builds itself before the manager kills them.
func TestStopBoundBelowServiceStopTimeout(t *testing.T) {
	if margin := service.StopTimeout - agent.StopBound; margin < time.Minute {
		t.Errorf("agent.StopBound %v leaves %v before service.StopTimeout %v, want at least a minute", agent.StopBound, margin, service.StopTimeout)
	}
}
