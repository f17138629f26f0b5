package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/buildslave/buildslave/internal/mastertest"
)

// upgradeAndBuild converts dir with upgrade-slave, starts our worker in the
// background on it and runs a build.
func upgradeAndBuild(t *testing.T, m *mastertest.Master, dir string) {
	t.Helper()
	tac, err := os.ReadFile(filepath.Join(dir, "buildbot.tac"))
	if err != nil {
		t.Fatal(err)
	}
	info, _ := os.ReadFile(filepath.Join(dir, "info", "admin"))
	out, err := buildslave(t, "upgrade-slave", dir)
	if err != nil {
		t.Fatalf("upgrade-slave: %v\n%s", err, out)
	}
	if strings.Contains(out, "s3cret-pw") {
		t.Errorf("upgrade-slave printed the password:\n%s", out)
	}
	if !strings.Contains(out, "workername = 'w1'") && !strings.Contains(out, "slavename = 'w1'") {
		t.Errorf("upgrade-slave does not list the name it carried over:\n%s", out)
	}
	if strings.Contains(out, "not understood") {
		t.Errorf("upgrade-slave did not understand the template:\n%s", out)
	}
	if bak, err := os.ReadFile(filepath.Join(dir, "buildbot.tac.bak")); err != nil || string(bak) != string(tac) {
		t.Errorf("buildbot.tac.bak: %v (same content: %v)", err, string(bak) == string(tac))
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "info", "admin")); string(after) != string(info) {
		t.Errorf("info/admin changed: %q → %q", info, after)
	}

	out, err = buildslave(t, "start", dir)
	t.Cleanup(func() { _, _ = buildslave(t, "stop", dir) })
	if err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	ctx := testContext(t)
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	forceSuccess(t, ctx, m, "b1")
	if out, err := buildslave(t, "stop", dir); err != nil {
		t.Fatalf("stop: %v\n%s", err, out)
	}
	// The old tac keeps the password, as private as before.
	if fi, err := os.Stat(filepath.Join(dir, "buildbot.tac.bak")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("buildbot.tac.bak: %v, %v; want mode 0600", fi, err)
	}
	_ = filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || fi.Name() == "buildslave.cfg" || fi.Name() == "buildbot.tac.bak" {
			return nil
		}
		if data, err := os.ReadFile(path); err == nil && strings.Contains(string(data), "s3cret-pw") {
			t.Errorf("%s contains the password", path)
		}
		return nil
	})
	if fi, err := os.Stat(filepath.Join(dir, "buildslave.cfg")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("buildslave.cfg: %v, %v; want mode 0600", fi, err)
	}
}

func TestUpgradeFromBuildbotWorker(t *testing.T) {
	m := oneBuilderMaster(t)
	dir := filepath.Join(t.TempDir(), "worker")
	create := exec.Command(mastertest.ReferenceWorkerProgram, "create-worker", "-q", "--keepalive=10", "--umask=0o22",
		dir, m.PBAddr(), "w1", "s3cret-pw")
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("buildbot-worker create-worker: %v\n%s", err, out)
	}
	upgradeAndBuild(t, m, dir)
}

// TestUpgradeCarriesTheProtocol: a reference worker created for msgpack
// becomes ours, still speaking msgpack to the master's msgpack port.
func TestUpgradeCarriesTheProtocol(t *testing.T) {
	m := oneBuilderMaster(t)
	dir := filepath.Join(t.TempDir(), "worker")
	create := exec.Command(mastertest.ReferenceWorkerProgram, "create-worker", "-q", "--protocol="+msgpack,
		dir, m.MsgpackAddr(), "w1", "s3cret-pw")
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("buildbot-worker create-worker: %v\n%s", err, out)
	}
	upgradeAndBuild(t, m, dir)
	cfg, err := os.ReadFile(filepath.Join(dir, "buildslave.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), `protocol = "`+msgpack+`"`) {
		t.Errorf("buildslave.cfg does not carry the protocol:\n%s", cfg)
	}
	if log, _ := os.ReadFile(filepath.Join(dir, "twistd.log")); !strings.Contains(string(log), "config.protocol="+msgpack) {
		t.Errorf("the worker did not run over msgpack:\n%s", log)
	}
}

// PB only: buildslave 0.8 knew no other protocol.
func TestUpgradeFromBuildslave08(t *testing.T) {
	m := oneBuilderMaster(t)
	template, err := os.ReadFile(filepath.Join("testdata", "buildslave-0.8.tac"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "slave")
	if err := os.MkdirAll(filepath.Join(dir, "info"), 0o755); err != nil {
		t.Fatal(err)
	}
	tac := strings.NewReplacer("@BASEDIR@", dir, "@PORT@", strconv.Itoa(m.PBPort()),
		"@NAME@", "w1", "@PASSWORD@", "s3cret-pw").Replace(string(template))
	if err := os.WriteFile(filepath.Join(dir, "buildbot.tac"), []byte(tac), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "info", "admin"), []byte("An Old Slave <old@example.org>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	upgradeAndBuild(t, m, dir)
}

func TestUpgradeBadTacChangesNothing(t *testing.T) {
	dir := t.TempDir()
	tac := "from buildbot_worker.bot import Worker\napplication = service.Application('buildbot-worker')\nworkername = 'w1'\npasswd = os.environ['WORKERPASS']\n"
	if err := os.WriteFile(filepath.Join(dir, "buildbot.tac"), []byte(tac), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := buildslave(t, "upgrade-slave", dir)
	if err == nil {
		t.Fatalf("upgrade-slave accepted a tac without a password or master:\n%s", out)
	}
	if !strings.Contains(out, "nothing was changed") || !strings.Contains(out, "passwd") {
		t.Errorf("upgrade-slave's error:\n%s", out)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the directory changed: %v", entries)
	}
	if out, err := buildslave(t, "upgrade-worker", filepath.Join(dir, "missing")); err == nil || !strings.Contains(out, "nothing was changed") {
		t.Errorf("upgrade-worker of a missing directory: %v\n%s", err, out)
	}
}

// TestProtocolNamesAreCheckedEverywhere: a protocol other than pb and
// msgpack_experimental_v7 is a clear error at create-worker, start and
// upgrade-slave, never a silent fallback; so is a ':' in a msgpack name.
func TestProtocolNamesAreCheckedEverywhere(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "w")
	out, err := buildslave(t, "create-worker", "-q", "--protocol=msgpack", dir, "127.0.0.1:1", "w1", "pw")
	if err == nil || !strings.Contains(out, `protocol "msgpack" is not one of "pb", "msgpack_experimental_v7"`) {
		t.Errorf("create-worker --protocol=msgpack: %v\n%s", err, out)
	}
	out, err = buildslave(t, "create-worker", "-q", "--protocol="+msgpack, dir, "127.0.0.1:1", "rack:1", "pw")
	if err == nil || !strings.Contains(out, `"rack:1" contains ':'`) {
		t.Errorf("create-worker of a ':' name over msgpack: %v\n%s", err, out)
	}

	// start: a file edited by hand.
	if out, err := buildslave(t, "create-worker", "-q", dir, "127.0.0.1:1", "w1", "pw"); err != nil {
		t.Fatalf("create-worker: %v\n%s", err, out)
	}
	cfgPath := filepath.Join(dir, "buildslave.cfg")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(cfg), `protocol = "pb"`, `protocol = "msgpack_experimental_v8"`, 1)
	if edited == string(cfg) {
		t.Fatalf("no protocol line in:\n%s", cfg)
	}
	if err := os.WriteFile(cfgPath, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = buildslave(t, "start", "--nodaemon", dir)
	if err == nil || !strings.Contains(out, `protocol "msgpack_experimental_v8" is not one of`) {
		t.Errorf("start with a bad protocol: %v\n%s", err, out)
	}

	// upgrade-slave: a tac with a protocol we do not speak.
	old := t.TempDir()
	tac := "from buildbot_worker.bot import Worker\nfrom twisted.application import service\n" +
		"basedir = '" + old + "'\nbuildmaster_host = '127.0.0.1'\nport = 9989\nworkername = 'w1'\npasswd = 'pw'\n" +
		"keepalive = 600\numask = None\nmaxdelay = 300\nnumcpus = None\nallow_shutdown = None\nmaxretries = None\n" +
		"use_tls = 0\ndelete_leftover_dirs = 0\nprotocol = 'carrier-pigeon'\n" +
		"application = service.Application('buildbot-worker')\n" +
		"s = Worker(buildmaster_host, port, workername, passwd, basedir, keepalive, umask=umask, maxdelay=maxdelay, numcpus=numcpus, allow_shutdown=allow_shutdown, maxRetries=maxretries, protocol=protocol, useTls=use_tls, delete_leftover_dirs=delete_leftover_dirs)\n" +
		"s.setServiceParent(application)\n"
	if err := os.WriteFile(filepath.Join(old, "buildbot.tac"), []byte(tac), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = buildslave(t, "upgrade-slave", old)
	if err == nil || !strings.Contains(out, `protocol "carrier-pigeon"`) || !strings.Contains(out, "nothing was changed") {
		t.Errorf("upgrade-slave of a tac with protocol 'carrier-pigeon': %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(old, "buildslave.cfg")); err == nil {
		t.Error("upgrade-slave wrote a config for an unknown protocol")
	}
}
