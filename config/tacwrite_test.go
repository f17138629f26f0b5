package config

import (
	"reflect"
	"testing"
)

// TestTacRoundTrip: what Tac writes, ParseTac reads back to the same
// settings, including values that need escaping.
func TestTacRoundTrip(t *testing.T) {
	umask := 0o22
	for _, c := range []Config{
		func() Config {
			c := Defaults()
			c.Relocatable, c.Basedir = true, "."
			c.MasterHost, c.MasterPort = "master.example.org", 19989
			c.Name, c.Password = "w1", `p'a"s\s`+"\x01é"
			return c
		}(),
		func() Config {
			c := Defaults()
			c.Basedir = "/srv/worker"
			c.MasterHost, c.MasterPort = "::1", 9989
			c.Name, c.Password = "w2", "pw"
			c.Umask, c.Keepalive, c.MaxRetries, c.NumCPUs = &umask, 10, 3, 2
			c.AllowShutdown, c.UseTLS, c.DeleteLeftoverDirs = ShutdownFile, true, true
			c.Protocol, c.NoLogRotate, c.UnicodeEncoding = ProtocolMsgpack, true, "latin-1"
			c.ProxyConnectionString = "tcp:proxy:3128"
			return c
		}(),
	} {
		tac, err := ParseTac(c.Tac())
		if err != nil {
			t.Fatalf("ParseTac: %v\n%s", err, c.Tac())
		}
		if len(tac.NotUnderstood) > 0 {
			t.Errorf("not understood: %q", tac.NotUnderstood)
		}
		if !reflect.DeepEqual(tac.Config, c) {
			t.Errorf("round trip:\n got %+v\nwant %+v", tac.Config, c)
		}
	}
}

func TestParseExported(t *testing.T) {
	c := Defaults()
	c.Relocatable, c.MasterHost, c.Name, c.Password = true, "m", "w", "p"
	dir := t.TempDir()
	got, err := Parse([]byte(c.Text()), dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Basedir != dir || got.Name != "w" || got.Password != "p" || got.MasterHost != "m" {
		t.Errorf("Parse(Text()) = %+v", got)
	}
}

// FuzzTacRoundTrip: whatever the allocator stores for a worker (name,
// password, master host), the tac written for it reads back to exactly
// that, and never to an extra statement; and ParseTac never panics on the
// result or on the raw input.
func FuzzTacRoundTrip(f *testing.F) {
	f.Add("w1", "pw", "master.example.org")
	f.Add("w'1", `p"w\'`, "::1")
	f.Add("w", "a\nimport os; os.system('x')\n", "h\x00")
	f.Add("w", "\u2028\U0001F600\x7f", "h")
	f.Fuzz(func(t *testing.T, name, password, host string) {
		_, _ = ParseTac(name + password + host)
		c := Defaults()
		c.Relocatable, c.Basedir = true, "."
		c.Name, c.Password, c.MasterHost = name, password, host
		if name == "" || password == "" || host == "" || c.Validate() != nil {
			return
		}
		tac, err := ParseTac(c.Tac())
		if err != nil {
			t.Fatalf("ParseTac: %v\n%s", err, c.Tac())
		}
		if len(tac.NotUnderstood) > 0 {
			t.Fatalf("not understood: %q\n%s", tac.NotUnderstood, c.Tac())
		}
		got := tac.Config
		if got.Name != name || got.Password != password || got.MasterHost != host {
			t.Fatalf("round trip: %q %q %q, want %q %q %q", got.Name, got.Password, got.MasterHost, name, password, host)
		}
	})
}
