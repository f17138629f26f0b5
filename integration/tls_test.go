package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/buildslave/buildslave/internal/mastertest"
	"github.com/buildslave/buildslave/internal/testcert"
)

// The tests of this file are PB's: a master's msgpack port has no TLS of
// its own; over msgpack, TLS is tried through a reverse proxy
// (tls_msgpack_test.go).

// tlsMaster starts a master whose PB port speaks only TLS, with the
// certificate and key given: the harness's tcp: port becomes Twisted's
// ssl: endpoint on the same port and interface.
func tlsMaster(t *testing.T, certPath, keyPath string) *mastertest.Master {
	t.Helper()
	return mastertest.Start(t, mastertest.Options{
		Workers:         []mastertest.WorkerSpec{{Name: "w1", Password: "s3cret-pw"}},
		Builders:        oneBuilder,
		ForceSchedulers: []string{"b1"},
		ExtraConfig: "c['protocols']['pb']['port'] = c['protocols']['pb']['port'].replace('tcp:', 'ssl:', 1)" +
			" + ':privateKey=' + " + mastertest.PyString(keyPath) + " + ':certKey=' + " + mastertest.PyString(certPath) + "\n",
	})
}

func TestTLSMasterWithTrustRoots(t *testing.T) {
	certDir := filepath.Join(t.TempDir(), "master-cert")
	certPath, keyPath := testcert.Write(t, certDir, "buildslave test master")
	m := tlsMaster(t, certPath, keyPath)
	ctx := testContext(t)

	// Trusting the master's certificate: connected, and builds run.
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
	port := strconv.Itoa(m.PBPort())
	dir := createOurs(t, m.PBAddr(), "--connection-string=TLS:127.0.0.1:"+port+":trustRoots="+roots)
	w := runOurs(t, dir)
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatalf("%v\nworker log:\n%s", err, w.log())
	}
	forceSuccess(t, ctx, m, "b1")
	if log := w.log(); !strings.Contains(log, "tls:127.0.0.1:"+port) {
		t.Errorf("the log does not show the TLS connection:\n%s", log)
	}
}

func TestTLSMasterUntrusted(t *testing.T) {
	certPath, keyPath := testcert.Write(t, filepath.Join(t.TempDir(), "master-cert"), "buildslave test master")
	m := tlsMaster(t, certPath, keyPath)
	ctx := testContext(t)
	// Trusting some other certificate only, then the system roots.
	otherRoots := filepath.Join(t.TempDir(), "other")
	testcert.Write(t, otherRoots, "buildslave test master")
	os.Remove(filepath.Join(otherRoots, "key.pem"))
	port := strconv.Itoa(m.PBPort())
	for what, args := range map[string][]string{
		"other trust roots": {"--connection-string=TLS:127.0.0.1:" + port + ":trustRoots=" + otherRoots},
		"system roots":      {"--use-tls"},
	} {
		dir := createOurs(t, m.PBAddr(), append(args, "--maxretries=1")...)
		w := runOurs(t, dir)
		if code := w.wait(t, ctx); code != 3 {
			t.Errorf("%s: exit status %d, want 3", what, code)
		}
		log := w.log()
		if !strings.Contains(log, "TLS handshake with 127.0.0.1:"+port) || !strings.Contains(log, "certificate") {
			t.Errorf("%s: the log does not say the certificate was refused:\n%s", what, log)
		}
		if strings.Contains(log, "Connected to buildmaster") {
			t.Errorf("%s: connected with an untrusted certificate", what)
		}
	}
	if wk, err := m.Worker(ctx, "w1"); err != nil || wk.Connected() {
		t.Errorf("the master saw the worker: %+v, %v", wk, err)
	}
}
