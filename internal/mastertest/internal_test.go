package mastertest

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseStdio(t *testing.T) {
	l := ParseStdio("hcmd\nohello\neoops\no\nhexit 0\nxodd\n")
	if got, want := l.Stdout(), "hello\n\n"; got != want {
		t.Errorf("Stdout = %q, want %q", got, want)
	}
	if got, want := l.Stderr(), "oops\n"; got != want {
		t.Errorf("Stderr = %q, want %q", got, want)
	}
	if got, want := l.Header(), "cmd\nexit 0\n"; got != want {
		t.Errorf("Header = %q, want %q", got, want)
	}
	if n := len(l.Lines); n != 6 {
		t.Fatalf("%d lines, want 6", n)
	}
	if last := l.Lines[5]; last.Stream != 0 || last.Text != "xodd" {
		t.Errorf("unprefixed line = %+v", last)
	}
	if l := ParseStdio(""); len(l.Lines) != 0 || l.Stdout() != "" {
		t.Errorf("empty log parsed as %+v", l)
	}
}

func TestResultJSON(t *testing.T) {
	var v struct{ A, B Result }
	if err := json.Unmarshal([]byte(`{"A": null, "B": 2}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != NoResult || v.B != FAILURE {
		t.Errorf("got %v, %v", v.A, v.B)
	}
	if s := CANCELLED.String(); s != "cancelled" {
		t.Errorf("CANCELLED.String() = %q", s)
	}
	if s := Result(9).String(); s != "Result(9)" {
		t.Errorf("Result(9).String() = %q", s)
	}
}

func TestPyString(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:      `"plain"`,
		`it's "q"\n`: `"it's \"q\"\\n"`,
		"<tab>\t":    `"<tab>\t"`,
	} {
		if got := PyString(in); got != want {
			t.Errorf("PyString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestMasterConfigLoopbackOnly(t *testing.T) {
	opts := Options{
		Workers:         []WorkerSpec{{Name: "w1", Password: "p'w", MaxBuilds: 2}, {Name: "w2", Password: "x"}},
		Builders:        "# BUILDERS\nc['schedulers'] = []\n",
		ForceSchedulers: []string{"b 1"},
		ExtraConfig:     "# EXTRA\n",
	}
	cfg := masterConfig(opts, ports{pb: 1111, http: 2222, msgpack: 3333}, forceSchedulerNames(opts.ForceSchedulers))
	for _, want := range []string{
		`'tcp:1111:interface=127.0.0.1'`,
		`'msgpack_experimental_v7': {'port': 3333}`,
		`self.portstr = portstr + ':interface=127.0.0.1'`,
		`'port': 'tcp:2222:interface=127.0.0.1'`,
		`worker.Worker("w1", "p'w", max_builds=2)`,
		`worker.Worker("w2", "x", max_builds=None)`,
		`ForceScheduler(name="force-0-b_1", builderNames=["b 1"]`,
		`c['buildbotNetUsageData'] = None`,
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("master.cfg lacks %s:\n%s", want, cfg)
		}
	}
	// Builders may reset c['schedulers']: force schedulers come after it,
	// and ExtraConfig last.
	b, f, e := strings.Index(cfg, "# BUILDERS"), strings.Index(cfg, "ForceScheduler("), strings.Index(cfg, "# EXTRA")
	if b >= f || f >= e {
		t.Errorf("sections out of order (builders %d, force %d, extra %d)", b, f, e)
	}
}

func TestFreePortsDistinct(t *testing.T) {
	ports, err := freePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	if ports[0] == ports[1] || ports[0] == 0 {
		t.Errorf("ports = %v", ports)
	}
}

func TestTailBuffer(t *testing.T) {
	b := newTailBuffer(5)
	_, _ = b.Write([]byte("abc"))
	_, _ = b.Write([]byte("defg"))
	if got := b.String(); got != "cdefg" {
		t.Errorf("tail = %q", got)
	}
}

// TestPortTakenRetries makes the first port pick collide with a listener and
// checks that New starts the master on fresh ports anyway.
func TestPortTakenRetries(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("buildbot"); err != nil {
		t.Skip("skipping: buildbot is not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	picks := 0
	pick := func(n int) ([]int, error) {
		picks++
		ports, err := freePorts(n)
		if picks == 1 && err == nil {
			ports[0] = taken
		}
		return ports, err
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*DefaultStartTimeout)
	defer cancel()
	opts := Options{
		Workers:         []WorkerSpec{{Name: "w1", Password: "pw"}},
		Builders:        `c['builders'].append(util.BuilderConfig(name="b", workernames=["w1"], factory=util.BuildFactory()))`,
		ForceSchedulers: []string{"b"},
		StartTimeout:    2 * DefaultStartTimeout,
	}
	m, err := newMaster(ctx, opts, pick)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if picks != 2 || m.PBPort() == taken {
		t.Errorf("picks = %d, PB port %d (taken %d)", picks, m.PBPort(), taken)
	}
	if _, err := m.Builders(ctx); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(m.Dir(), "twistd.log.attempt1")); err != nil {
		t.Errorf("log of the failed attempt not kept: %v", err)
	}
}
