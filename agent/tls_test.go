package agent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// selfSigned makes a certificate for 127.0.0.1 and returns it for a server
// and as PEM for a client's trust roots.
func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "test master"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

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
	cert, certPEM := selfSigned(t)
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
