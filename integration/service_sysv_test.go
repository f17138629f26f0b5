//go:build linux

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/buildslave/buildslave/internal/mastertest"
	"github.com/buildslave/buildslave/service"
)

// TestServiceOnSysV installs, starts, queries, stops and removes a real
// service where the service manager is SysV init (systemd not PID 1, as in
// most containers): the dry run shows the very script install writes, and
// stop reports the stopped worker without a spurious error. PB only: the
// service manager's part does not depend on the protocol.
func TestServiceOnSysV(t *testing.T) {
	if os.Geteuid() != 0 || service.Platform() != "unix-systemv" {
		t.Skipf("needs root and SysV init (this system: %q)", service.Platform())
	}
	m := mastertest.Start(t, mastertest.Options{
		Workers: []mastertest.WorkerSpec{{Name: "w1", Password: "s3cret-pw"}},
		Builders: `
f = util.BuildFactory()
f.addStep(steps.ShellCommand(command=["true"]))
c['builders'].append(util.BuilderConfig(name="b1", workernames=["w1"], factory=f))
`,
		ForceSchedulers: []string{"b1"},
	})
	ctx := testContext(t)
	dir := createOurs(t, m.PBAddr())
	name := fmt.Sprintf("buildslave-test-%d", os.Getpid())
	svc := func(args ...string) (string, error) {
		t.Helper()
		all := append([]string{"service"}, args[0], "--name", name)
		all = append(all, args[1:]...)
		return buildslave(t, append(all, dir)...)
	}
	t.Cleanup(func() {
		_, _ = svc("stop")
		_, _ = svc("uninstall")
	})

	dry, err := svc("install", "--dry-run")
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, dry)
	}
	if out, err := svc("install"); err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	installed, err := os.ReadFile("/etc/init.d/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if string(installed) != dry {
		t.Errorf("the dry run showed\n%s\nbut install wrote\n%s", dry, installed)
	}
	if out, err := svc("start"); err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatalf("%v\n%s", err, workerLogTail(filepath.Join(dir, "twistd.log")))
	}
	if out, err := svc("status"); err != nil || !strings.Contains(out, "installed, running") {
		t.Errorf("status of the running service: %v\n%s", err, out)
	}
	start := time.Now()
	out, err := svc("stop")
	if err != nil || strings.Contains(out, "querying") || strings.Contains(out, "exit status") || !strings.Contains(out, "installed, stopped") {
		t.Errorf("stop: %v\n%s", err, out)
	}
	t.Logf("stop took %v: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(out))
	if err := m.WaitWorkerDisconnected(ctx, "w1"); err != nil {
		t.Error(err)
	}
	if out, err := exec.Command("/etc/init.d/"+name, "status").CombinedOutput(); err == nil || strings.TrimSpace(string(out)) != "Stopped" {
		t.Errorf("LSB status of the stopped service: %v %q, want exit 3 and Stopped", err, out)
	}
	if out, err := svc("uninstall"); err != nil || !strings.Contains(out, "not installed") {
		t.Errorf("uninstall: %v\n%s", err, out)
	}
	links, _ := filepath.Glob("/etc/rc?.d/*" + name)
	if _, err := os.Stat("/etc/init.d/" + name); err == nil || len(links) > 0 {
		t.Errorf("left after uninstall: the script (%v), links %v", err, links)
	}
}
