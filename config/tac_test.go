package config

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseTacBuildslave08(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("testdata", "buildslave-0.8.tac"))
	if err != nil {
		t.Fatal(err)
	}
	tac, err := ParseTac(string(text))
	if err != nil {
		t.Fatal(err)
	}
	c := tac.Config
	if c.Basedir != "/home/buildbot/slave" || c.Relocatable {
		t.Errorf("basedir %q relocatable %v", c.Basedir, c.Relocatable)
	}
	if c.MasterHost != "buildbot.example.org" || c.MasterPort != 9989 {
		t.Errorf("master %s:%d", c.MasterHost, c.MasterPort)
	}
	if c.Name != "example-slave" || c.Password != "pa'ss" {
		t.Errorf("name %q password %q", c.Name, c.Password)
	}
	if c.Umask == nil || *c.Umask != 0o22 {
		t.Errorf("umask %v, want 0o22 from Python 2's 022", c.Umask)
	}
	if c.Keepalive != 600 || c.MaxDelay != 300 || c.AllowShutdown != "" || c.NoLogRotate {
		t.Errorf("keepalive %d maxdelay %d allow_shutdown %q no_logrotate %v", c.Keepalive, c.MaxDelay, c.AllowShutdown, c.NoLogRotate)
	}
	if c.LogSize != 10000000 || c.LogCount != 10 {
		t.Errorf("log size %d count %d", c.LogSize, c.LogCount)
	}
	if len(tac.NotUnderstood) != 0 {
		t.Errorf("not understood: %q", tac.NotUnderstood)
	}
	if len(tac.Notes) != 1 || !strings.Contains(tac.Notes[0], "usepty") {
		t.Errorf("notes %q, want one about usepty", tac.Notes)
	}
	if !slices.Contains(tac.Settings, "passwd = [redacted]") || !slices.Contains(tac.Settings, "umask = 0o22") {
		t.Errorf("settings %q", tac.Settings)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

// TestParseTacBuildbotWorker parses tacs that the installed buildbot-worker
// writes, rather than a copy of one, so that a template change is noticed.
func TestParseTacBuildbotWorker(t *testing.T) {
	if _, err := exec.LookPath("buildbot-worker"); err != nil {
		t.Skip("buildbot-worker is not installed")
	}
	for name, tc := range map[string]struct {
		args  []string
		check func(t *testing.T, c Config)
	}{
		"defaults": {nil, func(t *testing.T, c Config) {
			if c.MasterPort != 19989 || c.Keepalive != 600 || c.Umask != nil || c.NoLogRotate || c.Relocatable {
				t.Errorf("%+v", c)
			}
		}},
		"options": {[]string{"--umask=0o22", "--keepalive=10", "--maxdelay=30", "--numcpus=3", "--maxretries=4",
			"--allow-shutdown=file", "--use-tls", "--delete-leftover-dirs", "--log-size=5000", "--log-count=3",
			"--protocol=msgpack_experimental_v7"}, func(t *testing.T, c Config) {
			if c.Umask == nil || *c.Umask != 0o22 || c.Keepalive != 10 || c.MaxDelay != 30 || c.NumCPUs != 3 ||
				c.MaxRetries != 4 || c.AllowShutdown != ShutdownFile || !c.UseTLS || !c.DeleteLeftoverDirs ||
				c.LogSize != 5000 || c.LogCount != 3 || c.Protocol != ProtocolMsgpack {
				t.Errorf("%+v", c)
			}
		}},
		"relocatable, no logrotate": {[]string{"-r", "-n"}, func(t *testing.T, c Config) {
			if !c.Relocatable || c.Basedir != "." || !c.NoLogRotate {
				t.Errorf("%+v", c)
			}
		}},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "w")
			args := append([]string{"create-worker", "-q"}, tc.args...)
			args = append(args, dir, "127.0.0.1:19989", "w1", "p w'd")
			if out, err := exec.Command("buildbot-worker", args...).CombinedOutput(); err != nil {
				t.Fatalf("create-worker: %v\n%s", err, out)
			}
			text, err := os.ReadFile(filepath.Join(dir, "buildbot.tac"))
			if err != nil {
				t.Fatal(err)
			}
			tac, err := ParseTac(string(text))
			if err != nil {
				t.Fatal(err)
			}
			if len(tac.NotUnderstood) != 0 {
				t.Errorf("not understood: %q", tac.NotUnderstood)
			}
			c := tac.Config
			if c.MasterHost != "127.0.0.1" || c.Name != "w1" || c.Password != "p w'd" {
				t.Errorf("master %q name %q password %q", c.MasterHost, c.Name, c.Password)
			}
			if !c.Relocatable && c.Basedir != dir {
				t.Errorf("basedir %q, want %q", c.Basedir, dir)
			}
			tc.check(t, c)
			if err := c.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestParseTacConnectionStringForm(t *testing.T) {
	// The form buildbot-worker 4.x writes with --connection-string.
	tac, err := ParseTac(`
application = service.Application('buildbot-worker')
buildmaster_host = None  # 'master'
port = None  # 9989
connection_string = 'TLS:master.example.org:9989:trustRoots=/etc/ssl/bb'
workername = "w"
passwd = 'p'
keepalive = None
maxretries = None
use_tls = False
unicode_encoding = u'utf-8'
`)
	if err != nil {
		t.Fatal(err)
	}
	c := tac.Config
	if c.ConnectionString != "TLS:master.example.org:9989:trustRoots=/etc/ssl/bb" || c.MasterHost != "" || c.Keepalive != 0 {
		t.Errorf("%+v", c)
	}
	if !c.NoLogRotate {
		t.Error("a tac without a logging block means no_logrotate")
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

func TestParseTacReportsWhatItCannotRead(t *testing.T) {
	tac, err := ParseTac(`
application = service.Application('buildbot-worker')
buildmaster_host = 'm'
workername = 'w'
passwd = 'secret-pw'
keepalive = os.environ.get('KEEPALIVE', 600)
numcpus = 'four'
print("hello")
import sys
if sys.platform == 'win32':
    umask = 0
colour = 'blue'
`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"line 6: keepalive = os.environ.get('KEEPALIVE', 600)",
		"line 7: numcpus = 'four': 'four' is not a non-negative whole number",
		`line 8: print("hello")`,
		"line 10: if sys.platform == 'win32':",
		"line 11: umask = 0",
		"line 12: colour = 'blue': colour is not a setting buildslave knows",
	}
	if !slices.Equal(tac.NotUnderstood, want) {
		t.Errorf("not understood:\n%s\nwant:\n%s", strings.Join(tac.NotUnderstood, "\n"), strings.Join(want, "\n"))
	}
	if tac.Config.Keepalive != DefaultKeepalive || tac.Config.Umask != nil {
		t.Errorf("unreadable settings changed the config: %+v", tac.Config)
	}
}

func TestParseTacErrors(t *testing.T) {
	for name, text := range map[string]string{
		"not a tac":        "x = 1\n",
		"no password":      "application = service.Application('buildbot-worker')\nbuildmaster_host = 'm'\nworkername = 'w'\n",
		"password in env":  "application = service.Application('buildbot-worker')\nbuildmaster_host = 'm'\nworkername = 'w'\npasswd = os.environ['WORKERPASS']\n",
		"unclosed bracket": "application = service.Application('buildbot-worker'\n",
		"unclosed string":  "application = service.Application('buildbot-worker')\npasswd = 'abc\n",
		"triple quotes":    "application = service.Application('buildbot-worker')\npasswd = '''x'''\n",
		"binary":           "\x00\x01\x02",
	} {
		tac, err := ParseTac(text)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if tac != nil {
			for _, s := range tac.NotUnderstood {
				if strings.Contains(s, "WORKERPASS") {
					t.Errorf("%s: a password line is shown: %q", name, s)
				}
			}
		}
	}
}

func TestParsePyLiteral(t *testing.T) {
	for src, want := range map[string]string{
		`'a\'b'`:       "a'b",
		`"a\"b\\c"`:    `a"b\c`,
		`'\x41\u00e9'`: "Aé",
		`r'C:\new'`:    `C:\new`,
		`u'x'`:         "x",
		`'tab\tend\n'`: "tab\tend\n",
		`'keep \q'`:    `keep \q`,
		`"it's"`:       "it's",
		`''`:           "",
		`'a#b'`:        "a#b",
	} {
		v, err := parsePyLiteral(src)
		if err != nil || !v.isStr || v.s != want {
			t.Errorf("%s: %+v, %v; want %q", src, v, err, want)
		}
	}
	for src, want := range map[string]int64{"0o22": 0o22, "022": 0o22, "0": 0, "10_000": 10000, "0x1F": 31, "077": 0o77} {
		v, err := parsePyLiteral(src)
		if err != nil || !v.isInt || v.n != want {
			t.Errorf("%s: %+v, %v; want %d", src, v, err, want)
		}
	}
	for _, src := range []string{`'a' + 'b'`, `'\x4'`, "foo", "1e", `'a'b'`, "-", `f'x'`} {
		if v, err := parsePyLiteral(src); err == nil {
			t.Errorf("%s: parsed as %+v", src, v)
		}
	}
}
