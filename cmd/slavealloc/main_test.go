package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/buildslave/buildslave/internal/pgtest"
	"github.com/buildslave/buildslave/internal/syncbuf"
	"github.com/buildslave/buildslave/internal/testcert"
	"github.com/buildslave/buildslave/slavealloc/store"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// sa runs one slavealloc command in this process.
func sa(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &out)
	return out.String(), err
}

func mustSA(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := sa(t, stdin, args...)
	if err != nil {
		t.Fatalf("slavealloc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// serveInProcess runs "slavealloc serve" until the test ends.
func serveInProcess(t *testing.T, args ...string) (addr string, log *syncbuf.Buffer) {
	t.Helper()
	addr = freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	log = &syncbuf.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", addr}, args...), nil, log, log)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr, log
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v", err)
		default:
		}
		if i > 200 {
			t.Fatal("serve does not listen")
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func TestFrontEnd(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:///" + filepath.Join(dir, "a.db")
	tok := filepath.Join(dir, "admin.token")
	hash := mustSA(t, "", "token", "new", tok)
	if !strings.HasPrefix(hash, "sha256:") {
		t.Fatalf("token new printed %q", hash)
	}
	if out := mustSA(t, "", "token", "hash", tok); out != hash {
		t.Errorf("token hash = %q, want %q", out, hash)
	}
	// The server's file holds only the hash.
	serverTokens := filepath.Join(dir, "server.tokens")
	if err := os.WriteFile(serverTokens, []byte(hash), 0o644); err != nil {
		t.Fatal(err)
	}
	mustSA(t, "", "dbinit", "-D", db)
	addr, _ := serveInProcess(t, "-D", db, "--token-file", serverTokens)
	api := []string{"--api", "http://" + addr, "--token-file", tok}
	with := func(args ...string) []string { return append(args, api...) }

	mustSA(t, "", with("pool", "add", "p")...)
	mustSA(t, "", with("master", "add", "m1", "--host", "127.0.0.1", "--pb-port", "9001", "--pool", "p")...)
	mustSA(t, "", with("master", "add", "m2", "--host", "127.0.0.1", "--pb-port", "9002", "--msgpack-port", "9102", "--pool", "p", "--disabled")...)
	mustSA(t, "s3cret-pw\n", with("worker", "add", "w1", "--pool", "p", "--password-file", "-", "--notes", "rack 1")...)
	if out := mustSA(t, "", "pool", "list", "--api", "http://"+addr); !strings.Contains(out, "p     2        1") {
		t.Errorf("pool list:\n%s", out)
	}
	out := mustSA(t, "", "master", "list", "--api", "http://"+addr)
	if !strings.Contains(out, "m2      p     127.0.0.1  9002     9102          no") {
		t.Errorf("master list:\n%s", out)
	}
	if _, err := sa(t, "", with("worker", "move", "w1", "m2")...); err == nil || !strings.Contains(err.Error(), "m2 is disabled") {
		t.Errorf("move to a disabled master: %v", err)
	}
	mustSA(t, "", with("master", "enable", "m2")...)
	mustSA(t, "", with("worker", "move", "w1", "m2")...)
	mustSA(t, "", with("worker", "lock", "w1", "m1")...)
	out = mustSA(t, "", with("worker", "list")...)
	if !strings.Contains(out, "w1      p     m1      m1") || strings.Contains(out, "s3cret") {
		t.Errorf("worker list after lock:\n%s", out)
	}
	mustSA(t, "", with("worker", "lock", "--unlock", "w1")...)
	mustSA(t, "", with("worker", "disable", "w1")...)
	out = mustSA(t, "", with("worker", "list", "--json")...)
	var ws []store.Worker
	if err := json.Unmarshal([]byte(out), &ws); err != nil || len(ws) != 1 || ws[0].Enabled || ws[0].LockedMaster != "" || ws[0].Notes != "rack 1" {
		t.Errorf("worker list --json: %v %s", err, out)
	}
	mustSA(t, "", with("worker", "enable", "w1")...)
	mustSA(t, "", with("worker", "move", "w1", "--pool", "p")...)
	mustSA(t, "new-pw\n", with("worker", "update", "w1", "--password-file", "-", "--notes", "rack 2")...)
	mustSA(t, "", with("master", "update", "m2", "--host", "::1", "--msgpack-port", "0")...)
	if _, err := sa(t, "", with("worker", "update", "w1")...); !errors.As(err, new(*usageError)) {
		t.Errorf("update without a change: %v", err)
	}
	if out := mustSA(t, "", "master", "list", "--api", "http://"+addr); !strings.Contains(out, "m2      p     ::1        9002                   yes") {
		t.Errorf("master list after update:\n%s", out)
	}

	// Changes without a token are refused before anything is sent; with
	// a wrong one, by the server.
	_, err := sa(t, "", "worker", "disable", "w1", "--api", "http://"+addr)
	var u *usageError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "needs --token-file") {
		t.Errorf("change without a token: %v", err)
	}
	other := filepath.Join(dir, "other.token")
	mustSA(t, "", "token", "new", other)
	if _, err := sa(t, "", "worker", "disable", "w1", "--api", "http://"+addr, "--token-file", other); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("change with a wrong token: %v", err)
	}
	if _, err := sa(t, "", with("worker", "add", "w2", "--pool", "p", "--password-file", filepath.Join(dir, "missing"))...); err == nil {
		t.Error("worker add without a password")
	}
	if _, err := sa(t, "", with("worker", "move", "w1")...); !errors.As(err, &u) {
		t.Errorf("move without a target: %v", err)
	}

	// Dump, and load into PostgreSQL: the same listing.
	dump := filepath.Join(dir, "dump.json")
	mustSA(t, "", "dbdump", "-D", db, "-o", dump)
	if fi, err := os.Stat(dump); err != nil || fi.Mode().Perm() != 0o600 && runtime.GOOS != "windows" {
		t.Errorf("dump file: %v %v", fi, err)
	}
	data, _ := os.ReadFile(dump)
	if !strings.Contains(string(data), "new-pw") || !strings.Contains(string(data), "rack 2") {
		t.Errorf("the dump lacks the password")
	}
	pg := pgtest.URL(t)
	mustSA(t, "", "dbinit", "-D", pg)
	mustSA(t, "", "dbload", "-D", pg, dump)
	if _, err := sa(t, "", "dbload", "-D", pg, dump); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("second dbload: %v", err)
	}
	var pgDump bytes.Buffer
	if err := run(context.Background(), []string{"dbdump", "-D", pg}, nil, &pgDump, os.Stderr); err != nil {
		t.Fatal(err)
	}
	strip := func(s string) string { return s[strings.Index(s, `"pools"`):] }
	if strip(pgDump.String()) != strip(string(data)) {
		t.Errorf("PostgreSQL's dump differs:\n%s\n---\n%s", pgDump.String(), data)
	}
}

func TestServeRefuses(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "t")
	mustSA(t, "", "token", "new", tok)
	if _, err := sa(t, "", "serve", "-D", "sqlite:///"+filepath.Join(dir, "new.db"), "--listen", freeAddr(t), "--token-file", tok); err == nil || !strings.Contains(err.Error(), "dbinit") {
		t.Errorf("serve on an uninitialized database: %v", err)
	}
	if runtime.GOOS != "windows" { // POSIX permission bits
		if err := os.Chmod(tok, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := sa(t, "", "serve", "-D", "sqlite:///"+filepath.Join(dir, "x.db"), "--token-file", tok); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("serve with a readable token file: %v", err)
		}
	}
	if _, err := sa(t, "", "serve", "-D", "sqlite:///"+filepath.Join(dir, "x.db")); err == nil {
		t.Error("serve without --token-file")
	}
}

// TestServeTLS: with --tls-cert and --tls-key the server speaks HTTPS,
// which the front end trusts with --ca-file.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := testcert.Write(t, dir, "slavealloc test")
	db := "sqlite:///" + filepath.Join(dir, "a.db")
	tok := filepath.Join(dir, "t")
	mustSA(t, "", "token", "new", tok)
	mustSA(t, "", "dbinit", "-D", db)
	addr, _ := serveInProcess(t, "-D", db, "--token-file", tok, "--tls-cert", cert, "--tls-key", key)
	mustSA(t, "", "pool", "add", "secure", "--api", "https://"+addr, "--token-file", tok, "--ca-file", cert)
	if out := mustSA(t, "", "pool", "list", "--api", "https://"+addr, "--ca-file", cert); !strings.Contains(out, "secure") {
		t.Errorf("pool list over TLS: %s", out)
	}
	if _, err := sa(t, "", "pool", "list", "--api", "https://"+addr); err == nil {
		t.Error("an untrusted certificate was accepted")
	}
	if resp, err := http.Get("http://" + addr + "/api/pools"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP answered on the TLS port")
		}
	}
}

// TestPasswordKey: a server with a password key keeps the passwords
// encrypted; dbdump needs the key to write them out.
func TestPasswordKey(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:///" + filepath.Join(dir, "a.db")
	tok, key := filepath.Join(dir, "t"), filepath.Join(dir, "key")
	mustSA(t, "", "token", "new", tok)
	mustSA(t, "", "key", "new", key)
	mustSA(t, "", "dbinit", "-D", db)
	addr, log := serveInProcess(t, "-D", db, "--token-file", tok, "--password-key-file", key)
	api := []string{"--api", "http://" + addr, "--token-file", tok}
	mustSA(t, "", append([]string{"pool", "add", "p"}, api...)...)
	mustSA(t, "very-secret-pw\n", append([]string{"worker", "add", "w1", "--pool", "p", "--password-file", "-"}, api...)...)
	raw, err := os.ReadFile(filepath.Join(dir, "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(filepath.Join(dir, "a.db-wal"))
	if bytes.Contains(append(raw, wal...), []byte("very-secret-pw")) {
		t.Error("the database file holds the password in clear")
	}
	if _, err := sa(t, "", "dbdump", "-D", db); err == nil || !strings.Contains(err.Error(), "--password-key-file") {
		t.Errorf("dbdump without the key: %v", err)
	}
	if out := mustSA(t, "", "dbdump", "-D", db, "--password-key-file", key); !strings.Contains(out, "very-secret-pw") {
		t.Errorf("dbdump with the key lacks the password")
	}
	if strings.Contains(log.String(), "very-secret-pw") {
		t.Error("the server logged the password")
	}
}
