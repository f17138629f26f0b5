package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/slavealloc/server"
	"github.com/buildslave/buildslave/slavealloc/store"
	"github.com/buildslave/buildslave/slavealloc/token"
)

// allocatorFixture runs a real allocator on SQLite with pool p, masters
// m1 (port 9001) and m2 (port 9002), and worker w1 with testPassword.
type allocatorFixture struct {
	srv       *httptest.Server
	tokenFile string
	admin     string
}

func newAllocatorFixture(t *testing.T) *allocatorFixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:///"+filepath.Join(t.TempDir(), "alloc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Init(ctx, false); err != nil {
		t.Fatal(err)
	}
	f := &allocatorFixture{tokenFile: filepath.Join(t.TempDir(), "token")}
	if f.admin, err = token.WriteNew(f.tokenFile); err != nil {
		t.Fatal(err)
	}
	set, err := token.Load(f.tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(server.New(st, set, slog.New(slog.NewTextHandler(io.Discard, nil))).Handler())
	t.Cleanup(f.srv.Close)
	f.api(t, "POST", "/api/pools", `{"name":"p"}`)
	f.api(t, "POST", "/api/masters", `{"name":"m1","host":"127.0.0.1","pb_port":9001,"pool":"p"}`)
	f.api(t, "POST", "/api/masters", `{"name":"m2","host":"127.0.0.1","pb_port":9002,"pool":"p"}`)
	pw, _ := json.Marshal(testPassword)
	f.api(t, "POST", "/api/workers", `{"name":"w1","pool":"p","password":`+string(pw)+`}`)
	return f
}

func (f *allocatorFixture) api(t *testing.T, method, path, body string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+f.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
}

func TestCreateFromAllocatorAndRefresh(t *testing.T) {
	f := newAllocatorFixture(t)
	basedir := filepath.Join(t.TempDir(), "worker")
	code, out, errOut := run(t, "create-slave", "--keepalive=17", "--allocator", f.srv.URL, "--allocator-token-file", f.tokenFile, basedir, "w1")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	if !strings.Contains(out, "gave master m1 (127.0.0.1:9001)") {
		t.Errorf("create output: %s", out)
	}
	cfg, err := config.Load(basedir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Name != "w1" || cfg.Password != testPassword || cfg.MasterPort != 9001 || cfg.Keepalive != 17 {
		t.Errorf("created config: %+v", cfg)
	}
	if strings.Contains(out+errOut, testPassword) {
		t.Errorf("the password was printed: %s %s", out, errOut)
	}

	var lines []string
	printer := func(format string, args ...any) { lines = append(lines, strings.TrimSpace(fmtS(format, args...))) }
	ctx := context.Background()

	// Sticky: a start keeps m1 and says so.
	if err := refreshFromAllocator(ctx, printer, basedir); err != nil {
		t.Fatal(err)
	}
	// Moved: the next start writes m2, keeping the worker's own settings.
	f.api(t, "POST", "/api/workers/w1/move", `{"master":"m2"}`)
	if err := refreshFromAllocator(ctx, printer, basedir); err != nil {
		t.Fatal(err)
	}
	cfg, err = config.Load(basedir)
	if err != nil || cfg.MasterPort != 9002 || cfg.Keepalive != 17 {
		t.Fatalf("after the move: %+v %v", cfg, err)
	}
	if fi, _ := os.Stat(filepath.Join(basedir, config.FileName)); fi.Mode().Perm() != 0o600 && runtime.GOOS != "windows" {
		t.Errorf("mode %v", fi.Mode())
	}
	// Refused: a disabled worker does not start.
	f.api(t, "POST", "/api/workers/w1/disable", ``)
	if err := refreshFromAllocator(ctx, printer, basedir); err == nil || !strings.Contains(err.Error(), "disabled") {
		t.Errorf("disabled worker: %v", err)
	}
	// Unreachable: the last good configuration stays.
	f.srv.Close()
	if err := refreshFromAllocator(ctx, printer, basedir); err != nil {
		t.Errorf("unreachable allocator: %v", err)
	}
	if cfg, err := config.Load(basedir); err != nil || cfg.MasterPort != 9002 {
		t.Errorf("fallback config: %+v %v", cfg, err)
	}
	want := []string{"kept master m1", "gave master m2 (127.0.0.1:9002)", "refused (409", "unreachable"}
	if len(lines) != len(want) {
		t.Fatalf("messages: %q", lines)
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("message %d = %q, want %q", i, lines[i], w)
		}
	}
	log := readFile(t, basedir, "twistd.log")
	for _, w := range []string{"gave master m2", "starting with the last good configuration, master 127.0.0.1:9002"} {
		if !strings.Contains(log, w) {
			t.Errorf("twistd.log lacks %q:\n%s", w, log)
		}
	}
	if strings.Contains(log, testPassword) {
		t.Errorf("password in the log")
	}
}

func fmtS(format string, args ...any) string {
	var b strings.Builder
	progress(&b, false)(format, args...)
	return b.String()
}

func TestCreateFromAllocatorFailures(t *testing.T) {
	f := newAllocatorFixture(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--allocator", f.srv.URL, filepath.Join(dir, "a"), "w1"}, "401"},
		{[]string{"--allocator", f.srv.URL, "--allocator-token-file", f.tokenFile, filepath.Join(dir, "b"), "nobody"}, "404"},
		{[]string{"--allocator", "http://127.0.0.1:1", filepath.Join(dir, "c"), "w1"}, "nothing was created"},
		{[]string{"--allocator", "ftp://x", filepath.Join(dir, "d"), "w1"}, "not an http"},
		{[]string{"--allocator", f.srv.URL, filepath.Join(dir, "e"), "w1", "extra"}, "2 arguments"},
	} {
		code, _, errOut := run(t, append([]string{"create-slave"}, tc.args...)...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %s; want %q", tc.args, code, errOut, tc.want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("a failed create left %v", entries)
	}
}

// TestAllocatorOverTLS: an https:// allocator with its own certificate is
// trusted through --allocator-ca-file, and only then.
func TestAllocatorOverTLS(t *testing.T) {
	f := newAllocatorFixture(t)
	tlsSrv := httptest.NewTLSServer(f.srv.Config.Handler)
	defer tlsSrv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	code, _, errOut := run(t, "create-slave", "--allocator", tlsSrv.URL, "--allocator-token-file", f.tokenFile, filepath.Join(dir, "untrusted"), "w1")
	if code == 0 || !strings.Contains(errOut, "certificate") {
		t.Errorf("untrusted certificate: exit %d %s", code, errOut)
	}
	basedir := filepath.Join(dir, "w")
	code, out, errOut := run(t, "create-slave", "--allocator", tlsSrv.URL, "--allocator-token-file", f.tokenFile, "--allocator-ca-file", ca, basedir, "w1")
	if code != 0 || !strings.Contains(out, "gave master m1") {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	var lines []string
	if err := refreshFromAllocator(context.Background(), func(format string, args ...any) { lines = append(lines, fmtS(format, args...)) }, basedir); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "kept master m1") {
		t.Errorf("refresh over TLS: %q", lines)
	}
}
