package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/buildslave/buildslave/config"
)

const testPassword = "Secr3t-pa55word"

func TestCreateWorker(t *testing.T) {
	basedir := filepath.Join(t.TempDir(), "worker")
	code, out, errOut := run(t, "create-slave", basedir, "master.example.org:19989", "w1", testPassword)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	wantOut := "mkdir " + basedir + "\n" +
		"mkdir " + filepath.Join(basedir, "info") + "\n" +
		"Creating info/admin, you need to edit it appropriately.\n" +
		"Creating info/host, you need to edit it appropriately.\n" +
		"Not creating info/access_uri - add it if you wish\n" +
		"Please edit the files in " + filepath.Join(basedir, "info") + " appropriately.\n" +
		"worker configured in " + basedir + "\n"
	if out != wantOut {
		t.Errorf("output:\n%s\nwant:\n%s", out, wantOut)
	}
	for _, line := range strings.Split(strings.TrimSpace(errOut), "\n") {
		if line != "" && !strings.HasPrefix(line, "warning: ") {
			t.Errorf("unexpected error output %q", line)
		}
	}

	admin := readFile(t, basedir, "info", "admin")
	if admin != defaultAdmin {
		t.Errorf("info/admin = %q", admin)
	}
	host := readFile(t, basedir, "info", "host")
	if !strings.HasPrefix(host, "# Written by buildslave test") || !strings.Contains(host, "\nOS: ") {
		t.Errorf("info/host = %q", host)
	}

	cfg, err := config.Load(basedir)
	if err != nil {
		t.Fatal(err)
	}
	want := config.Defaults()
	want.Basedir = basedir
	want.MasterHost, want.MasterPort = "master.example.org", 19989
	want.Name, want.Password = "w1", testPassword
	if cfg.String() != want.String() || cfg.Password != testPassword {
		t.Errorf("stored %v, want %v", cfg, want)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(filepath.Join(basedir, config.FileName))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v", config.FileName, fi.Mode().Perm())
		}
	}

	// Again with the same settings: nothing to do, and it says so.
	code, out, errOut = run(t, "create-worker", basedir, "master.example.org:19989", "w1", testPassword)
	if code != 0 {
		t.Fatalf("second run: exit %d: %s", code, errOut)
	}
	wantOut = "updating existing installation\n" +
		"Not creating info/access_uri - add it if you wish\n" +
		"not touching existing buildslave.cfg: it has the same settings\n" +
		"worker configured in " + basedir + "\n"
	if out != wantOut {
		t.Errorf("second run output:\n%s\nwant:\n%s", out, wantOut)
	}
}

func readFile(t *testing.T, elem ...string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(elem...))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestCreateWorkerOptions(t *testing.T) {
	basedir := t.TempDir()
	code, _, errOut := run(t, "create-worker",
		"-k", "10", "--umask=022", "--maxdelay", "30", "--numcpus=3",
		"-a", "signal", "--maxretries", "4", "--use-tls", "--delete-leftover-dirs",
		"--proxy-connection-string", "tcp:proxy.example.org:3128",
		"--connection-string", "TLS:master.example.org:9989",
		"--protocol", "msgpack_experimental_v7", "-s", "2000000", "-l", "None",
		"-n", "-r", "-q",
		basedir, "[2001:db8::7]:1234", "w2", testPassword)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got, err := config.Load(basedir)
	if err != nil {
		t.Fatal(err)
	}
	u := 0o22
	want := config.Config{
		Basedir: basedir, Relocatable: true,
		MasterHost: "2001:db8::7", MasterPort: 1234,
		ConnectionString:      "TLS:master.example.org:9989",
		ProxyConnectionString: "tcp:proxy.example.org:3128",
		UseTLS:                true,
		Name:                  "w2", Password: testPassword,
		Keepalive: 10, Umask: &u, MaxDelay: 30, MaxRetries: 4, NumCPUs: 3,
		AllowShutdown: "signal", DeleteLeftoverDirs: true,
		Protocol: "msgpack_experimental_v7",
		LogSize:  2000000, LogCount: 0, NoLogRotate: true,
	}
	if got.String() != want.String() || got.Password != want.Password {
		t.Errorf("stored\n%v\nwant\n%v", got, want)
	}
	if !strings.Contains(readFile(t, basedir, config.FileName), "\nbasedir = \".\"\n") {
		t.Error("relocatable worker does not store basedir \".\"")
	}
}

func TestCreateWorkerUmaskSpellings(t *testing.T) {
	for spelling, want := range map[string]int{"022": 0o22, "0o22": 0o22, "18": 0o22, "0": 0} {
		basedir := t.TempDir()
		if code, _, errOut := run(t, "create-worker", "-q", "--umask", spelling, basedir, "m", "w", "p"); code != 0 {
			t.Fatalf("--umask %s: %s", spelling, errOut)
		}
		cfg, err := config.Load(basedir)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Umask == nil || *cfg.Umask != want {
			t.Errorf("--umask %s stored %v", spelling, cfg.Umask)
		}
	}
}

func TestCreateWorkerQuiet(t *testing.T) {
	code, out, errOut := run(t, "create-worker", "-q", filepath.Join(t.TempDir(), "w"), "m", "w", "p")
	if code != 0 || out != "" || errOut != "" {
		t.Errorf("-q: exit %d, output %q, errors %q", code, out, errOut)
	}
}

// Bad input is refused before anything is written.
func TestCreateWorkerBadInput(t *testing.T) {
	good := []string{"master", "w", testPassword} // after BASEDIR
	for name, tc := range map[string]struct {
		flags, args []string
		want        string
	}{
		"URL":            {nil, []string{"http://master.example.org:8010/", "w", testPassword}, "is a URL"},
		"bad port":       {nil, []string{"master:99999", "w", testPassword}, "invalid master port"},
		"bare IPv6":      {nil, []string{"2001:db8::1", "w", testPassword}, "brackets"},
		"empty name":     {nil, []string{"master", "", testPassword}, "workername is empty"},
		"empty password": {nil, []string{"master", "w", ""}, "passwd is empty"},
		"too few":        {nil, []string{"master", "w"}, "needs 4 arguments"},
		"bad umask":      {[]string{"--umask=abc"}, good, "--umask"},
		"umask too big":  {[]string{"--umask=1000"}, good, "out of range"},
		"allow-shutdown": {[]string{"-a", "now"}, good, `allow_shutdown "now"`},
		"protocol":       {[]string{"--protocol", "http"}, good, `protocol "http"`},
		"keepalive":      {[]string{"-k", "-1"}, good, "keepalive -1"},
		"log-count":      {[]string{"-l", "-1"}, good, "--log-count"},
		"unknown flag":   {[]string{"--frobnicate"}, good, "unknown flag"},
	} {
		t.Run(name, func(t *testing.T) {
			basedir := filepath.Join(t.TempDir(), "worker")
			args := append(append(append([]string{"create-worker"}, tc.flags...), basedir), tc.args...)
			code, out, errOut := run(t, args...)
			if code == 0 {
				t.Fatalf("accepted %q", args)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("error %q does not contain %q", errOut, tc.want)
			}
			if strings.Contains(out+errOut, testPassword) {
				t.Errorf("output reveals the password: %q %q", out, errOut)
			}
			if _, err := os.Stat(basedir); !os.IsNotExist(err) {
				t.Errorf("base directory created anyway (%v)", err)
			}
		})
	}
}

func TestCreateWorkerForce(t *testing.T) {
	basedir := t.TempDir()
	if code, _, errOut := run(t, "create-worker", "-q", basedir, "m", "w", "old-password"); code != 0 {
		t.Fatal(errOut)
	}
	// Edit info/admin: neither run below may touch it.
	adminPath := filepath.Join(basedir, "info", "admin")
	if err := os.WriteFile(adminPath, []byte("Jane <jane@example.org>\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	code, _, errOut := run(t, "create-worker", basedir, "m", "w", testPassword)
	if code == 0 || !strings.Contains(errOut, "--force") || strings.Contains(errOut, testPassword) {
		t.Errorf("different settings without --force: exit %d, %q", code, errOut)
	}
	if cfg, err := config.Load(basedir); err != nil || cfg.Password != "old-password" {
		t.Errorf("config changed without --force: %v", err)
	}

	code, out, errOut := run(t, "create-worker", "--force", basedir, "m", "w", testPassword)
	if code != 0 {
		t.Fatalf("--force: %s", errOut)
	}
	if strings.Contains(out+errOut, testPassword) {
		t.Errorf("output reveals the password: %q %q", out, errOut)
	}
	if !strings.Contains(out, "replacing existing buildslave.cfg (--force)\n") {
		t.Errorf("--force output does not say it replaces the file: %q", out)
	}
	if cfg, err := config.Load(basedir); err != nil || cfg.Password != testPassword {
		t.Errorf("config not replaced with --force: %v", err)
	}
	if readFile(t, adminPath) != "Jane <jane@example.org>\n" {
		t.Error("info/admin overwritten")
	}
}

func TestCreateWorkerBasedirIsFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run(t, "create-worker", file, "m", "w", "p"); code == 0 || !strings.Contains(errOut, "not a directory") {
		t.Errorf("exit %d, %q", code, errOut)
	}
}

// A failure half-way removes what the run created and nothing else.
func TestCreateWorkerRollsBack(t *testing.T) {
	basedir := t.TempDir()
	// A directory where the configuration file goes makes writing it
	// fail after the info files are made.
	if err := os.Mkdir(filepath.Join(basedir, config.FileName), 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, "create-worker", "--force", basedir, "m", "w", "p")
	if code == 0 {
		t.Fatal("writing over a directory succeeded")
	}
	if _, err := os.Stat(filepath.Join(basedir, "info")); !os.IsNotExist(err) {
		t.Errorf("info left behind after %q (%v)", errOut, err)
	}
	if _, err := os.Stat(basedir); err != nil {
		t.Errorf("pre-existing base directory removed: %v", err)
	}
}

// A password beginning with '-' is taken for options by the flag parser,
// whose error messages quote what they could not parse.
func TestCreateWorkerNeverEchoesADashPassword(t *testing.T) {
	for _, pw := range []string{"-secretpw", "--secretpw", "-ksecret", "-qs3cret"} {
		dir := filepath.Join(t.TempDir(), "w")
		code, stdout, stderr := run(t, "create-worker", dir, "127.0.0.1:9989", "w1", pw)
		if code == 0 {
			t.Errorf("password %q: create-worker succeeded", pw)
		}
		secret := strings.TrimLeft(pw, "-")
		if strings.Contains(stdout+stderr, secret[1:]) {
			t.Errorf("password %q shows in the output:\n%s%s", pw, stdout, stderr)
		}
	}
	// An ordinary mistake keeps its useful message.
	_, _, stderr := run(t, "create-worker", "--keepalive=abc", t.TempDir(), "127.0.0.1:9989", "w1", "pw")
	if !strings.Contains(stderr, `"abc"`) || strings.Contains(stderr, "redacted") {
		t.Errorf("bad keepalive message: %s", stderr)
	}
	// With '--', such a password is just a password.
	dir := filepath.Join(t.TempDir(), "w")
	if code, _, stderr := run(t, "create-worker", "-q", "--", dir, "127.0.0.1:9989", "w1", "-secretpw"); code != 0 {
		t.Errorf("create-worker -- ... -secretpw: %s", stderr)
	}
}
