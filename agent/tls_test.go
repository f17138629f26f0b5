package agent

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/buildslave/buildslave/internal/testcert"
)

func tlsServer(t *testing.T, cert tls.Certificate) int {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.(*tls.Conn).Handshake()
				_, _ = c.Write([]byte("ok"))
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func TestDialTLSWithTrustRoots(t *testing.T) {
	c := testcert.New(t, "test master")
	cert, certPEM := c.TLS, c.CertPEM
	port := tlsServer(t, cert)
	roots := t.TempDir()
	if err := os.WriteFile(filepath.Join(roots, "README"), []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(roots, "master.pem"), certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	ep, err := parseEndpoint("TLS:127.0.0.1:" + strconv.Itoa(port) + ":trustRoots=" + roots)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := route{master: ep}.dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Read(buf); err != nil || string(buf) != "ok" {
		t.Errorf("read %q, %v", buf, err)
	}
	conn.Close()

	// Without the trust root (system roots) the certificate is refused.
	ep.TrustRoots = ""
	if _, err := (route{master: ep}).dial(ctx); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted certificate: err = %v", err)
	}
	// A trust root directory without certificates trusts nothing.
	ep.TrustRoots = t.TempDir()
	if _, err := (route{master: ep}).dial(ctx); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("empty trust roots: err = %v", err)
	}
}
