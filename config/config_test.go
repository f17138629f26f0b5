package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

const secret = "s3cr3t-Pa55word"

func sample(basedir string) Config {
	c := Defaults()
	c.Basedir = basedir
	c.MasterHost = "buildbot.example.org"
	c.MasterPort = 19989
	c.Name = "worker-1"
	c.Password = secret
	return c
}

func umask(u int) *int { return &u }

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	full := sample(dir)
	full.MasterHost = "::1"
	full.ConnectionString = "TLS:buildbot.example.org:9989"
	full.ProxyConnectionString = "tcp:proxy.example.org:3128"
	full.UseTLS = true
	full.Password = "pa\"ss\\wo\trd é \x01 \u2028"
	full.Keepalive = 10
	full.Umask = umask(0o22)
	full.MaxDelay = 30
	full.MaxRetries = 7
	full.NumCPUs = 3
	full.AllowShutdown = ShutdownFile
	full.DeleteLeftoverDirs = true
	full.Protocol = ProtocolMsgpack
	full.UnicodeEncoding = "latin-1"
	full.LogSize = 12345
	full.LogCount = 0
	full.NoLogRotate = true
	full.FailoverMasters = []string{"master2.example.org:9989", "[2001:db8::2]:9990"}
	full.MetricsAddr = "127.0.0.1:9101"

	zeroUmask := sample(dir)
	zeroUmask.Umask = umask(0)

	for name, want := range map[string]Config{
		"defaults":   sample(dir),
		"everything": full,
		"umask 000":  zeroUmask,
	} {
		t.Run(name, func(t *testing.T) {
			if err := want.Write(dir); err != nil {
				t.Fatal(err)
			}
			got, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("Load after Write:\n got %#v\nwant %#v", fields(*got), fields(want))
			}
		})
	}
}

// fields shows a Config's raw fields, which its own Format hides.
func fields(c Config) string {
	type raw Config
	return fmt.Sprintf("%+v", raw(c))
}

func TestWriteCommentsEverySetting(t *testing.T) {
	dir := t.TempDir()
	c := sample(dir)
	if err := c.Write(dir); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if !strings.HasPrefix(text, "# buildslave.cfg") || !strings.Contains(text, "password") {
		t.Errorf("header does not say what the file is and that it holds the password:\n%s", text)
	}
	if !strings.Contains(text, "\n#umask = ") {
		t.Errorf("unset umask is not written commented out:\n%s", text)
	}
	typ := reflect.TypeFor[file]()
	lines := strings.Split(text, "\n")
	for i := range typ.NumField() {
		key := typ.Field(i).Tag.Get("toml")
		n := keyLine(data, key)
		if n == 0 {
			// Unset optional settings are commented out.
			n = keyLine([]byte(strings.ReplaceAll(text, "\n#", "\n")), key)
		}
		if n < 2 {
			t.Errorf("setting %s is missing", key)
			continue
		}
		if !strings.HasPrefix(lines[n-2], "# ") {
			t.Errorf("setting %s has no comment above it", key)
		}
	}
}

func TestWriteMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions on Windows")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	// An existing, world-readable file must end up 0600 too.
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := sample(dir)
	for range 2 {
		if err := c.Write(dir); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != FileMode {
			t.Errorf("mode %v, want %v", fi.Mode().Perm(), os.FileMode(FileMode))
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestWriteRefusesInvalid(t *testing.T) {
	dir := t.TempDir()
	c := sample(dir)
	c.Password = ""
	if err := c.Write(dir); err == nil {
		t.Fatal("Write accepted a config without a password")
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); !os.IsNotExist(err) {
		t.Errorf("invalid config written anyway (%v)", err)
	}
}

func TestRelocatable(t *testing.T) {
	dir := t.TempDir()
	c := sample(filepath.Join(dir, "old-place"))
	c.Relocatable = true
	if err := os.Mkdir(filepath.Join(dir, "old-place"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := c.Write(filepath.Join(dir, "old-place")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "old-place", FileName))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "\nbasedir = \".\"\n") {
		t.Errorf("relocatable config does not store basedir \".\":\n%s", data)
	}
	newPlace := filepath.Join(dir, "new-place")
	if err := os.Rename(filepath.Join(dir, "old-place"), newPlace); err != nil {
		t.Fatal(err)
	}
	got, err := Load(newPlace)
	if err != nil {
		t.Fatal(err)
	}
	if got.Basedir != newPlace || !got.Relocatable {
		t.Errorf("Basedir %q Relocatable %v, want %q true", got.Basedir, got.Relocatable, newPlace)
	}
}

func TestLoadRelativeBasedir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, minimal+"basedir = \"sub\"\n")
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "sub"); got.Basedir != want || got.Relocatable {
		t.Errorf("Basedir %q Relocatable %v, want %q false", got.Basedir, got.Relocatable, want)
	}
}

const minimal = `buildmaster_host = "master.example.org"
workername = "w"
passwd = "p"
`

func writeFile(t *testing.T, dir, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadDefaults(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, minimal)
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := Defaults()
	want.Basedir = got.Basedir
	want.Relocatable = true
	want.MasterHost, want.Name, want.Password = "master.example.org", "w", "p"
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("got %s, want %s", fields(*got), fields(want))
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want          []string // substrings of the error
	}{
		{"unknown key", minimal + "\n\nfrobnicate = 1\n", []string{"line 6", `unknown setting "frobnicate"`}},
		{"key in another case", "Port = 1\n" + minimal, []string{"line 1", `"Port"`}},
		{"unknown table", minimal + "[extra]\nx = 1\n", []string{"line 4", `"extra"`}},
		{"wrong type", minimal + "port = \"9989\"\n", []string{"port"}},
		{"syntax", minimal + "port = \n", []string{"line 4"}},
		{"no name", strings.Replace(minimal, `workername = "w"`, "", 1), []string{"workername is empty"}},
		{"no password", strings.Replace(minimal, `passwd = "p"`, `passwd = ""`, 1), []string{"passwd is empty"}},
		{"no host", strings.Replace(minimal, `buildmaster_host = "master.example.org"`, "", 1), []string{"buildmaster_host is empty"}},
		{"port zero", minimal + "port = 0\n", []string{"port 0 is out of range"}},
		{"port too big", minimal + "port = 65536\n", []string{"port 65536 is out of range"}},
		{"port negative with connection string", minimal + "port = -1\nconnection_string = \"TCP:h:1\"\n", []string{"port -1"}},
		{"protocol", minimal + "protocol = \"http\"\n", []string{`protocol "http"`}},
		{"allow_shutdown", minimal + "allow_shutdown = \"now\"\n", []string{`allow_shutdown "now"`}},
		{"keepalive", minimal + "keepalive = -1\n", []string{"keepalive -1 is negative"}},
		{"maxdelay", minimal + "maxdelay = -2\n", []string{"maxdelay -2 is negative"}},
		{"maxretries", minimal + "maxretries = -3\n", []string{"maxretries -3 is negative"}},
		{"numcpus", minimal + "numcpus = -4\n", []string{"numcpus -4 is negative"}},
		{"log_count", minimal + "log_count = -5\n", []string{"log_count -5 is negative"}},
		{"log_size", minimal + "log_size = 0\n", []string{"log_size 0"}},
		{"umask not octal", minimal + "umask = \"089\"\n", []string{"line 4", `umask "089"`}},
		{"umask empty", minimal + "umask = \"\"\n", []string{"umask"}},
		{"umask too big", minimal + "umask = \"1000\"\n", []string{"out of range"}},
		{"umask int too big", minimal + "umask = 512\n", []string{"out of range"}},
		{"umask bool", minimal + "umask = true\n", []string{"umask must be"}},
		{"several at once", minimal + "keepalive = -1\nmaxdelay = -1\n", []string{"keepalive", "maxdelay"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, tc.content)
			_, err := Load(dir)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range append(tc.want, FileName) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func TestLoadMissing(t *testing.T) {
	if _, err := Load(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v is not a not-exist error", err)
	}
}

func TestLoadAcceptsConnectionStringWithoutHost(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "workername = \"w\"\npasswd = \"p\"\nconnection_string = \"TCP:h:1\"\n")
	if _, err := Load(dir); err != nil {
		t.Fatal(err)
	}
}

func TestUmaskSpellings(t *testing.T) {
	for text, want := range map[string]int{
		`"022"`:   0o22,
		`"0o022"`: 0o22,
		`"77"`:    0o77,
		`"0"`:     0,
		`0o22`:    0o22,
		`18`:      18,
	} {
		dir := t.TempDir()
		writeFile(t, dir, minimal+"umask = "+text+"\n")
		got, err := Load(dir)
		if err != nil {
			t.Errorf("umask = %s: %v", text, err)
			continue
		}
		if got.Umask == nil || *got.Umask != want {
			t.Errorf("umask = %s: got %v, want %#o", text, got.Umask, want)
		}
	}
}

func TestMasterAddr(t *testing.T) {
	for host, want := range map[string]string{
		"master.example.org": "master.example.org:9989",
		"192.0.2.1":          "192.0.2.1:9989",
		"2001:db8::1":        "[2001:db8::1]:9989",
	} {
		c := Config{MasterHost: host, MasterPort: 9989}
		if got := c.MasterAddr(); got != want {
			t.Errorf("MasterAddr(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestPasswordNeverShown(t *testing.T) {
	c := sample("/srv/worker")
	c.Umask = umask(0o22)
	shown := map[string]string{
		"String": c.String(),
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		shown["Sprintf "+verb] = fmt.Sprintf(verb, c)
		shown["Sprintf pointer "+verb] = fmt.Sprintf(verb, &c)
	}
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		var h slog.Handler = slog.NewTextHandler(&buf, nil)
		if format == "json" {
			h = slog.NewJSONHandler(&buf, nil)
		}
		logger := slog.New(h)
		logger.Info("config", "config", c, "pointer", &c)
		logger.Info("group", slog.Any("config", c))
		shown["slog "+format] = buf.String()
	}
	for what, s := range shown {
		if strings.Contains(s, secret) {
			t.Errorf("%s reveals the password: %s", what, s)
		}
		if !strings.Contains(s, c.Name) && !strings.Contains(s, fmt.Sprintf("%x", c.Name)) {
			t.Errorf("%s does not show the settings: %s", what, s)
		}
	}
	if !strings.Contains(shown["String"], "passwd="+redacted) || !strings.Contains(shown["String"], "umask=022") {
		t.Errorf("String() = %s", shown["String"])
	}
}
