package agent

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// tlsConfig is the client side of a TLS connection to e. The master's
// certificate is always verified, against e.TrustRoots when set (as
// Twisted's trustRoots=DIR), else against the system's roots, and must name
// e.Host.
func tlsConfig(e endpoint) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: e.Host, MinVersion: tls.VersionTLS12}
	if e.TrustRoots != "" {
		pool, err := loadTrustRoots(e.TrustRoots)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if e.Certificate != "" {
		cert, err := tls.LoadX509KeyPair(e.Certificate, e.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("loading the client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// loadTrustRoots reads every PEM certificate in dir (Twisted's form), or
// the file dir names. Files that hold no certificate are skipped; a
// directory without any is an error, since it would trust nothing.
func loadTrustRoots(dir string) (*x509.CertPool, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("trustRoots: %w", err)
	}
	files := []string{dir}
	if fi.IsDir() {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("trustRoots: %w", err)
		}
		files = files[:0]
		for _, e := range entries {
			if e.Type().IsRegular() {
				files = append(files, filepath.Join(dir, e.Name()))
			}
		}
	}
	pool := x509.NewCertPool()
	found := false
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("trustRoots: %w", err)
		}
		if pool.AppendCertsFromPEM(data) {
			found = true
		}
	}
	if !found {
		return nil, errors.New("trustRoots: no PEM certificate in " + dir)
	}
	return pool, nil
}
