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
	got, err := Parse([]byte(c.Text()), "/some/dir")
	if err != nil {
		t.Fatal(err)
	}
	if got.Basedir != "/some/dir" || got.Name != "w" || got.Password != "p" || got.MasterHost != "m" {
		t.Errorf("Parse(Text()) = %+v", got)
	}
}
