package preflight

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/buildslave/buildslave/config"
)

func cfgFor(dir string, port int) *config.Config {
	c := config.Defaults()
	c.Basedir, c.MasterHost, c.MasterPort, c.Name, c.Password = dir, "127.0.0.1", port, "w1", "pw"
	return &c
}

func TestRunStopsAtABadConfig(t *testing.T) {
	results := Run(context.Background(), t.TempDir(), func(string) (*config.Config, error) {
		return nil, errors.New("buildslave.cfg: line 3: unknown setting \"prot\"")
	})
	if len(results) != 1 || results[0].Verdict != Fail || results[0].Check != "config" || results[0].Fix == "" || !Failed(results) {
		t.Errorf("results %+v", results)
	}
}

func TestRunAgainstARefusingPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	results := Run(context.Background(), dir, func(string) (*config.Config, error) { return cfgFor(dir, port), nil })
	var out bytes.Buffer
	Print(&out, results)
	text := out.String()
	for _, want := range []string{
		"PASS  config: ",
		"PASS  resolve 127.0.0.1:" + strconv.Itoa(port) + ": 127.0.0.1 is an address",
		"FAIL  connect 127.0.0.1:" + strconv.Itoa(port) + ": ",
		"— nothing listens there",
		"PASS  basedir: ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "  protocol ") {
		t.Errorf("checks went on past a failed connection:\n%s", text)
	}
	if !Failed(results) {
		t.Errorf("Failed = false")
	}
	if n := strings.Count(text, "\n"); n != len(results) {
		t.Errorf("%d lines for %d results", n, len(results))
	}
}

func TestBasedirNotWritable(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		t.Skip("needs a directory this user cannot write to (root writes anywhere)")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	if r := checkBasedir(dir); r.Verdict != Fail || r.Fix == "" {
		t.Errorf("read-only basedir: %+v", r)
	}
}

func TestBasedirMissing(t *testing.T) {
	if r := checkBasedir(filepath.Join(t.TempDir(), "missing")); r.Verdict != Fail || !strings.Contains(r.Reason, "cannot create") {
		t.Errorf("missing basedir: %+v", r)
	}
}

func TestHostChecksNeverFail(t *testing.T) {
	for _, r := range checkHost(t.TempDir()) {
		if r.Verdict == Fail {
			t.Errorf("host check fails: %+v", r)
		}
	}
}

// A failover master that cannot be reached is a warning while another
// master works.
func TestRunWithOneFailoverMasterDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := l.Addr().(*net.TCPAddr).Port
	l.Close()
	pb, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Close()
	go func() {
		for {
			c, err := pb.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("\x02\x80\x02\x82pb\x04\x82none")) // PB's dialect offer
			c.Close()
		}
	}()
	dir := t.TempDir()
	cfg := cfgFor(dir, down)
	cfg.FailoverMasters = []string{pb.Addr().String()}
	results := Run(context.Background(), dir, func(string) (*config.Config, error) { return cfg, nil })
	var out bytes.Buffer
	Print(&out, results)
	if Failed(results) || !strings.Contains(out.String(), "WARN  connect 127.0.0.1:"+strconv.Itoa(down)) ||
		!strings.Contains(out.String(), "PASS  protocol "+pb.Addr().String()) {
		t.Errorf("one of two masters down:\n%s", out.String())
	}
	cfg.FailoverMasters = []string{"127.0.0.1:" + strconv.Itoa(down)}
	if results := Run(context.Background(), dir, func(string) (*config.Config, error) { return cfg, nil }); !Failed(results) {
		t.Errorf("every master down, and no check fails: %+v", results)
	}
}
