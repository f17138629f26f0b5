package config

import (
	"strings"
	"testing"
)

func TestParseHostPort(t *testing.T) {
	for in, want := range map[string]struct {
		host string
		port int
	}{
		"master2.example.org:9989": {"master2.example.org", 9989},
		"[2001:db8::2]:9990":       {"2001:db8::2", 9990},
		"127.0.0.1:1":              {"127.0.0.1", 1},
	} {
		h, p, err := ParseHostPort(in)
		if err != nil || h != want.host || p != want.port {
			t.Errorf("ParseHostPort(%q) = %q, %d, %v; want %q, %d", in, h, p, err, want.host, want.port)
		}
	}
	for _, bad := range []string{"", "host", ":9989", "host:0", "host:65536", "host:x", "2001:db8::2:9989"} {
		if _, _, err := ParseHostPort(bad); err == nil {
			t.Errorf("ParseHostPort(%q) succeeded", bad)
		}
	}
}

func TestMetricsListenAddrIsLoopbackUnlessSaid(t *testing.T) {
	for in, want := range map[string]string{
		"9101":           "127.0.0.1:9101",
		":9101":          "127.0.0.1:9101",
		"0.0.0.0:9101":   "0.0.0.0:9101",
		"[::1]:9101":     "[::1]:9101",
		"localhost:9101": "localhost:9101",
	} {
		c := Config{MetricsAddr: in}
		got, err := c.MetricsListenAddr()
		if err != nil || got != want {
			t.Errorf("MetricsListenAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"host:port", "1.2.3.4:99999", "a:b:c"} {
		c := Config{MetricsAddr: bad}
		if _, err := c.MetricsListenAddr(); err == nil {
			t.Errorf("MetricsListenAddr(%q) succeeded", bad)
		}
	}
}

func TestValidateFailoverAndMetrics(t *testing.T) {
	c := sample(t.TempDir())
	c.FailoverMasters = []string{"ok.example.org:9989", "no-port"}
	c.MetricsAddr = "x:y"
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "failover_masters") || !strings.Contains(err.Error(), "metrics_addr") {
		t.Errorf("Validate = %v, want errors for failover_masters and metrics_addr", err)
	}
}

func TestFailoverMastersStayReadable(t *testing.T) {
	c := sample(t.TempDir())
	c.FailoverMasters = []string{"master2.example.org:9989", "master3.example.org:9989"}
	text := c.render()
	if !strings.Contains(text, `buildmaster_host = "buildbot.example.org"`) ||
		!strings.Contains(text, `failover_masters = ["master2.example.org:9989", "master3.example.org:9989"]`) {
		t.Errorf("the masters are not written one readable setting each:\n%s", text)
	}
	c.FailoverMasters = nil
	if text := c.render(); !strings.Contains(text, `#failover_masters = [`) || !strings.Contains(text, `#metrics_addr = "127.0.0.1:9101"`) {
		t.Errorf("unset failover_masters and metrics_addr are not shown as commented examples:\n%s", text)
	}
}
