package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/buildslave/buildslave/internal/mastertest"
	"github.com/buildslave/buildslave/internal/testcert"
)

type checkLine struct {
	Verdict, Check, Reason, Fix string
}

// runCheck runs `buildslave check --json` and, for the test log, the text
// form; it returns the results and the exit status.
func runCheck(t *testing.T, dir string) ([]checkLine, int) {
	t.Helper()
	text, _ := exec.Command(binary, "check", dir).CombinedOutput()
	t.Logf("check %s:\n%s", filepath.Base(filepath.Dir(dir)), text)
	out, err := exec.Command(binary, "check", "--json", dir).Output()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var lines []checkLine
	if err := json.Unmarshal(out, &lines); err != nil {
		t.Fatalf("check --json: %v\n%s", err, out)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(text)), "\n") {
		if !strings.HasPrefix(l, "PASS  ") && !strings.HasPrefix(l, "WARN  ") && !strings.HasPrefix(l, "FAIL  ") {
			t.Errorf("check line does not start with its verdict: %q", l)
		}
	}
	return lines, code
}

// verdict is the verdict of the first check whose name starts with prefix.
func verdict(lines []checkLine, prefix string) (checkLine, bool) {
	for _, l := range lines {
		if strings.HasPrefix(l.Check, prefix) {
			return l, true
		}
	}
	return checkLine{}, false
}

func wantVerdict(t *testing.T, lines []checkLine, prefix, want, reason string) {
	t.Helper()
	l, ok := verdict(lines, prefix)
	if !ok {
		t.Errorf("no %q check in %v", prefix, lines)
		return
	}
	if l.Verdict != want || !strings.Contains(l.Reason, reason) {
		t.Errorf("check %q: %s %q, want %s with %q", l.Check, l.Verdict, l.Reason, want, reason)
	}
	if want == "FAIL" && l.Fix == "" {
		t.Errorf("check %q fails without saying what to do", l.Check)
	}
}

func TestCheckAgainstLiveMasterBesideARunningWorker(t *testing.T) {
	forEachProtocol(t, testCheckAgainstLiveMasterBesideARunningWorker)
}

func testCheckAgainstLiveMasterBesideARunningWorker(t *testing.T, protocol string) {
	m := oneBuilderMaster(t)
	ctx := testContext(t)
	port, answer := m.PBPort(), "Perspective Broker"
	if protocol == msgpack {
		// The probe's upgrade carries no credentials: the master's 401.
		port, answer = m.MsgpackPort(), "HTTP 401"
	}
	// By name, so that resolution is checked too.
	dir := createOurs(t, "localhost:"+strconv.Itoa(port), "--protocol="+protocol)
	w := runOurs(t, dir)
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatalf("%v\n%s", err, w.log())
	}
	lines, code := runCheck(t, dir)
	if code != 0 {
		t.Errorf("check against a live master: exit %d, want 0", code)
	}
	wantVerdict(t, lines, "config", "PASS", "is valid")
	wantVerdict(t, lines, "resolve localhost:", "PASS", "localhost is ")
	wantVerdict(t, lines, "connect localhost:", "PASS", "answered")
	wantVerdict(t, lines, "protocol localhost:", "PASS", answer)
	wantVerdict(t, lines, "basedir", "PASS", "writable")
	for _, host := range []string{"cpus", "memory", "disk"} {
		if l, ok := verdict(lines, host); !ok || l.Verdict == "FAIL" {
			t.Errorf("host check %s: %+v (a WARN at worst)", host, l)
		}
	}
	// check never logs in: the running worker stays connected and builds.
	time.Sleep(time.Second)
	if wk, err := m.Worker(ctx, "w1"); err != nil || !wk.Connected() {
		t.Errorf("the worker is no longer connected after check: %+v %v", wk, err)
	}
	forceSuccess(t, ctx, m, "b1")
	if strings.Contains(m.LogTail(200), "rejecting duplicate worker") {
		t.Errorf("check logged in:\n%s", m.LogTail(50))
	}
}

func TestCheckUnreachableAndForeignPorts(t *testing.T) {
	m := oneBuilderMaster(t)
	u, err := url.Parse(m.URL())
	if err != nil {
		t.Fatal(err)
	}
	// A port that greets in another protocol.
	banner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { banner.Close() })
	go func() {
		for {
			c, err := banner.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
			time.Sleep(time.Second)
			c.Close()
		}
	}()

	for _, tc := range []struct {
		name, protocol, master, stage, reason, fix string
	}{
		{"unreachable", "pb", "127.0.0.1:" + strconv.Itoa(freeLoopbackPort(t)), "connect", "connection refused", "nothing listens there"},
		{"web port", "pb", u.Host, "protocol", "nothing arrived", "not a Buildbot master's worker (PB) port"},
		{"ssh banner", "pb", banner.Addr().String(), "protocol", "SSH-2.0-OpenSSH", "not a Buildbot master's worker (PB) port"},
		// The msgpack probe speaks first (an HTTP upgrade): other answers.
		{"msgpack unreachable", msgpack, "127.0.0.1:" + strconv.Itoa(freeLoopbackPort(t)), "connect", "connection refused", "nothing listens there"},
		{"msgpack web port", msgpack, u.Host, "protocol", `upgrade with "200 OK"`, "not the master's msgpack port"},
		{"msgpack ssh banner", msgpack, banner.Addr().String(), "protocol", "SSH-2.0-OpenSSH", "not the master's msgpack port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := createOurs(t, tc.master, "--protocol="+tc.protocol)
			lines, code := runCheck(t, dir)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			l, ok := verdict(lines, tc.stage+" ")
			if !ok || l.Verdict != "FAIL" || !strings.Contains(l.Reason, tc.reason) || !strings.Contains(l.Fix, tc.fix) {
				t.Errorf("%s check: %+v, want FAIL with %q and advice %q", tc.stage, l, tc.reason, tc.fix)
			}
			wantVerdict(t, lines, "basedir", "PASS", "writable")
		})
	}
}

func TestCheckTLSMaster(t *testing.T) {
	certDir := filepath.Join(t.TempDir(), "master-cert")
	certPath, keyPath := testcert.Write(t, certDir, "buildslave test master")
	m := tlsMaster(t, certPath, keyPath)
	port := strconv.Itoa(m.PBPort())

	// The system's roots do not know the master's certificate.
	dir := createOurs(t, m.PBAddr(), "--use-tls")
	lines, code := runCheck(t, dir)
	if code != 1 {
		t.Errorf("untrusted certificate: exit %d, want 1", code)
	}
	wantVerdict(t, lines, "connect", "PASS", "answered")
	wantVerdict(t, lines, "tls", "FAIL", "certificate")
	if l, _ := verdict(lines, "tls"); !strings.Contains(l.Fix, "trustRoots") {
		t.Errorf("the TLS failure does not say how to trust the master: %+v", l)
	}

	// Trusting it: the handshake verifies and PB answers inside.
	roots := filepath.Join(t.TempDir(), "trust")
	if err := os.MkdirAll(roots, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(roots, "master.pem"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	dir = createOurs(t, m.PBAddr(), "--connection-string=TLS:127.0.0.1:"+port+":trustRoots="+roots)
	lines, code = runCheck(t, dir)
	if code != 0 {
		t.Errorf("trusted certificate: exit %d, want 0", code)
	}
	wantVerdict(t, lines, "tls", "PASS", "verified")
	wantVerdict(t, lines, "protocol", "PASS", "Perspective Broker")
}

// The master listens for msgpack on every interface (its port must be an
// integer); the check only connects to 127.0.0.1.
func TestCheckMsgpackPort(t *testing.T) {
	msgpackPort := freeLoopbackPort(t)
	m := mastertest.Start(t, mastertest.Options{
		Workers:         []mastertest.WorkerSpec{{Name: "w1", Password: "s3cret-pw"}},
		Builders:        oneBuilder,
		ForceSchedulers: []string{"b1"},
		ExtraConfig:     fmt.Sprintf("c['protocols']['msgpack_experimental_v7'] = {'port': %d}\n", msgpackPort),
	})
	dir := createOurs(t, "127.0.0.1:"+strconv.Itoa(msgpackPort), "--protocol=msgpack_experimental_v7")
	lines, code := runCheck(t, dir)
	if code != 0 {
		t.Errorf("check against the master's msgpack port: exit %d, want 0", code)
	}
	wantVerdict(t, lines, "protocol", "PASS", "HTTP 401")

	// The PB port is not a msgpack port.
	dir = createOurs(t, m.PBAddr(), "--protocol=msgpack_experimental_v7")
	lines, code = runCheck(t, dir)
	if code != 1 {
		t.Errorf("msgpack check against the PB port: exit %d, want 1", code)
	}
	wantVerdict(t, lines, "protocol", "FAIL", "not a Buildbot msgpack port")
}
