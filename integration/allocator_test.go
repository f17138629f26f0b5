package integration

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buildslave/buildslave/internal/mastertest"
	"github.com/buildslave/buildslave/internal/pgtest"
)

const (
	allocWorker   = "aw1"
	allocPassword = "alloc'ated-Pw\\1"
	pyWorker      = "pw1"
)

var (
	sallocOnce sync.Once
	sallocBin  string
	sallocErr  error
)

// slavealloc builds the allocator beside the worker binary, once.
func slavealloc(t *testing.T) string {
	t.Helper()
	sallocOnce.Do(func() {
		sallocBin = filepath.Join(filepath.Dir(binary), "slavealloc")
		out, err := exec.Command("go", "build", "-race", "-o", sallocBin, "../cmd/slavealloc").CombinedOutput()
		if err != nil {
			sallocErr = fmt.Errorf("building slavealloc: %w\n%s", err, out)
		}
	})
	if sallocErr != nil {
		t.Fatal(sallocErr)
	}
	return sallocBin
}

// runSA runs a slavealloc command and returns its combined output.
func runSA(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, slavealloc(t), args...).CombinedOutput()
	return string(out), err
}

func mustSA(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runSA(t, args...)
	if err != nil {
		t.Fatalf("slavealloc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// allocatorServer is a running "slavealloc serve".
type allocatorServer struct {
	url  string
	cmd  *exec.Cmd
	log  *bytes.Buffer
	done chan struct{}
}

func startAllocator(t *testing.T, dbURL, tokenFile string, extra ...string) *allocatorServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := &allocatorServer{url: "http://" + addr, log: &bytes.Buffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(slavealloc(t), append([]string{"serve", "-D", dbURL, "--listen", addr, "--token-file", tokenFile}, extra...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(s.stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.url + "/api/pools")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("slavealloc serve exited:\n%s", s.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("slavealloc serve did not answer: %v\n%s", err, s.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *allocatorServer) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

const allocBuilders = `
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="hello", command=["echo", "hello from the allocated worker"]))
c['builders'].append(util.BuilderConfig(name="b1", workernames=["aw1"], factory=f))
c['builders'].append(util.BuilderConfig(name="b2", workernames=["pw1"], factory=f))
`

// TestAllocatorEndToEnd: the allocator on SQLite and on PostgreSQL hands
// a worker made with --allocator one of two real masters, where it builds;
// moved, it builds on the other after a restart; with the allocator down a
// restart falls back to the last good configuration; an unauthenticated
// change is refused; and the Python worker runs the tac the allocator
// serves.
func TestAllocatorEndToEnd(t *testing.T) {
	opts := mastertest.Options{
		Workers:         []mastertest.WorkerSpec{{Name: allocWorker, Password: allocPassword}, {Name: pyWorker, Password: "py-pw"}},
		Builders:        allocBuilders,
		ForceSchedulers: []string{"b1", "b2"},
	}
	m1 := mastertest.Start(t, opts)
	m2 := mastertest.Start(t, opts)
	slavealloc(t)
	t.Run("sqlite", func(t *testing.T) {
		allocatorEndToEnd(t, "sqlite:///"+filepath.Join(t.TempDir(), "alloc.db"), false, m1, m2)
	})
	t.Run("postgres", func(t *testing.T) {
		// With the passwords encrypted at rest.
		allocatorEndToEnd(t, pgtest.URL(t), true, m1, m2)
	})
}

func allocatorEndToEnd(t *testing.T, dbURL string, encrypt bool, m1, m2 *mastertest.Master) {
	ctx := testContext(t)
	dir := t.TempDir()
	tok := filepath.Join(dir, "admin.token")
	mustSA(t, "token", "new", tok)
	mustSA(t, "dbinit", "-D", dbURL)
	if out, err := runSA(t, "dbinit", "-D", dbURL); err == nil || !strings.Contains(out, "already has a slavealloc schema") {
		t.Errorf("second dbinit: %v %s", err, out)
	}
	var extra []string
	if encrypt {
		key := filepath.Join(dir, "password.key")
		mustSA(t, "key", "new", key)
		extra = []string{"--password-key-file", key}
	}
	srv := startAllocator(t, dbURL, tok, extra...)
	api := []string{"--api", srv.url, "--token-file", tok}
	mustSA(t, append([]string{"pool", "add", "p"}, api...)...)
	for i, m := range []*mastertest.Master{m1, m2} {
		mustSA(t, append([]string{"master", "add", fmt.Sprintf("m%d", i+1), "--host", "127.0.0.1",
			"--pb-port", strconv.Itoa(m.PBPort()), "--pool", "p"}, api...)...)
	}
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte(allocPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustSA(t, append([]string{"worker", "add", allocWorker, "--pool", "p", "--password-file", pwFile}, api...)...)
	if err := os.WriteFile(pwFile, []byte("py-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustSA(t, append([]string{"worker", "add", pyWorker, "--pool", "p", "--password-file", pwFile}, api...)...)

	if encrypt {
		db, err := sql.Open("pgx", dbURL)
		if err != nil {
			t.Fatal(err)
		}
		var stored string
		err = db.QueryRowContext(ctx, "SELECT password FROM workers WHERE name = $1", allocWorker).Scan(&stored)
		db.Close()
		if err != nil || !strings.HasPrefix(stored, "aesgcm:v1:") || strings.Contains(stored, allocPassword) {
			t.Errorf("PostgreSQL holds %q, %v; want an encrypted password", stored, err)
		}
	}

	// Unauthenticated changes are refused, by the CLI and by the server.
	if out, err := runSA(t, "worker", "move", allocWorker, "m2", "--api", srv.url); err == nil || !strings.Contains(out, "needs --token-file") {
		t.Errorf("move without a token: %v %s", err, out)
	}
	bad := filepath.Join(dir, "bad.token")
	mustSA(t, "token", "new", bad)
	if out, err := runSA(t, "worker", "move", allocWorker, "m2", "--api", srv.url, "--token-file", bad); err == nil || !strings.Contains(out, "401") {
		t.Errorf("move with an unknown token: %v %s", err, out)
	}
	resp, err := http.Post(srv.url+"/api/workers/"+allocWorker+"/move", "application/json", strings.NewReader(`{"master":"m2"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(string(body), `"error"`) {
		t.Errorf("raw POST without a token: %d %s", resp.StatusCode, body)
	}

	// The worker is made from the allocator's answer: m1, the first of
	// two empty masters.
	basedir := filepath.Join(dir, "worker")
	out, err := buildslave(t, "create-slave", "--allocator", srv.url, "--allocator-token-file", tok, basedir, allocWorker)
	if err != nil || !strings.Contains(out, "gave master m1") {
		t.Fatalf("create-slave --allocator: %v\n%s", err, out)
	}
	t.Cleanup(func() { _, _ = buildslave(t, "stop", basedir) })
	out, err = buildslave(t, "start", basedir)
	if err != nil || !strings.Contains(out, "kept master m1") {
		t.Fatalf("start: %v\n%s", err, out)
	}
	if _, err := m1.WaitWorkerConnected(ctx, allocWorker); err != nil {
		t.Fatal(err)
	}
	forceSuccess(t, ctx, m1, "b1")

	// Moved to m2: a restart takes it there.
	mustSA(t, append([]string{"worker", "move", allocWorker, "m2"}, api...)...)
	out, err = buildslave(t, "restart", basedir)
	if err != nil || !strings.Contains(out, "gave master m2") {
		t.Fatalf("restart after the move: %v\n%s", err, out)
	}
	if _, err := m2.WaitWorkerConnected(ctx, allocWorker); err != nil {
		t.Fatal(err)
	}
	if err := m1.WaitWorkerDisconnected(ctx, allocWorker); err != nil {
		t.Fatal(err)
	}
	forceSuccess(t, ctx, m2, "b1")
	list := mustSA(t, append([]string{"worker", "list"}, api...)...)
	if !strings.Contains(list, "m2") || !strings.Contains(list, "127.0.0.1") {
		t.Errorf("worker list after the move:\n%s", list)
	}

	// The Python worker runs the tac the allocator serves, and
	// upgrade-slave reads it.
	pyMaster := pythonWorkerFromTac(t, ctx, srv.url, tok, dir, m1, m2)
	t.Logf("the Python worker connected to %s", pyMaster)

	// Allocator down: the restart falls back to m2.
	srv.stop()
	out, err = buildslave(t, "restart", basedir)
	if err != nil || !strings.Contains(out, "last good configuration, master 127.0.0.1:"+strconv.Itoa(m2.PBPort())) {
		t.Fatalf("restart with the allocator down: %v\n%s", err, out)
	}
	if _, err := m2.WaitWorkerConnected(ctx, allocWorker); err != nil {
		t.Fatal(err)
	}
	forceSuccess(t, ctx, m2, "b1")
	if log, _ := os.ReadFile(filepath.Join(basedir, "twistd.log")); !strings.Contains(string(log), "allocator unreachable") {
		t.Errorf("twistd.log does not say why:\n%s", log)
	}
	if out, err := buildslave(t, "stop", basedir); err != nil {
		t.Errorf("stop: %v %s", err, out)
	}
	if strings.Contains(srv.log.String(), allocPassword) {
		t.Errorf("the allocator logged a password:\n%s", srv.log)
	}
	if !strings.Contains(srv.log.String(), "allocated") {
		t.Errorf("the allocator's log has no allocation:\n%s", srv.log)
	}
}

// pythonWorkerFromTac fetches pw1's tac, runs buildbot-worker on it until
// it connects to the master the allocator named, and converts a copy with
// upgrade-slave. It returns the master's name.
func pythonWorkerFromTac(t *testing.T, ctx context.Context, api, tokenFile, dir string, m1, m2 *mastertest.Master) string {
	t.Helper()
	tokData, _ := os.ReadFile(tokenFile)
	req, _ := http.NewRequest("GET", api+"/gettac/"+pyWorker, nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tokData)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	tac, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("gettac: %d %s", resp.StatusCode, tac)
	}
	name := resp.Header.Get("X-Slavealloc-Master")
	m := map[string]*mastertest.Master{"m1": m1, "m2": m2}[name]
	if m == nil {
		t.Fatalf("gettac named master %q", name)
	}
	pyDir := filepath.Join(dir, "py")
	for _, d := range []string{pyDir, filepath.Join(pyDir, "info")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(pyDir, "info", "admin"), []byte("test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pyDir, "buildbot.tac"), tac, 0o600); err != nil {
		t.Fatal(err)
	}
	py := exec.Command(mastertest.ReferenceWorkerProgram, "start", "--nodaemon", pyDir)
	py.Dir = pyDir
	var pyOut bytes.Buffer
	py.Stdout, py.Stderr = &pyOut, &pyOut
	if err := py.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = py.Process.Signal(os.Interrupt)
		_ = py.Wait()
	}()
	if _, err := m.WaitWorkerConnected(ctx, pyWorker); err != nil {
		t.Fatalf("the Python worker did not connect with the allocator's tac: %v\n%s\n%s", err, pyOut.String(), tac)
	}
	forceSuccess(t, ctx, m, "b2")

	upDir := filepath.Join(dir, "up")
	if err := os.Mkdir(upDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(upDir, "buildbot.tac"), tac, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := buildslave(t, "upgrade-slave", upDir)
	if err != nil || strings.Contains(out, "not understood") {
		t.Errorf("upgrade-slave of the allocator's tac: %v\n%s", err, out)
	}
	return name
}

// TestAllocatorGivesAMsgpackWorkerTheMsgpackPort is the first step of
// TestAllocatorEndToEnd (which runs over PB) for a worker made with
// --protocol=msgpack_experimental_v7: the allocator answers with the
// master's msgpack port, where the worker builds.
func TestAllocatorGivesAMsgpackWorkerTheMsgpackPort(t *testing.T) {
	m := mastertest.Start(t, mastertest.Options{
		Workers:         []mastertest.WorkerSpec{{Name: allocWorker, Password: allocPassword}, {Name: pyWorker, Password: "py-pw"}},
		Builders:        allocBuilders,
		ForceSchedulers: []string{"b1", "b2"},
	})
	ctx := testContext(t)
	dir := t.TempDir()
	dbURL := "sqlite:///" + filepath.Join(dir, "alloc.db")
	tok := filepath.Join(dir, "admin.token")
	mustSA(t, "token", "new", tok)
	mustSA(t, "dbinit", "-D", dbURL)
	srv := startAllocator(t, dbURL, tok)
	api := []string{"--api", srv.url, "--token-file", tok}
	mustSA(t, append([]string{"pool", "add", "p"}, api...)...)
	mustSA(t, append([]string{"master", "add", "m1", "--host", "127.0.0.1", "--pb-port", strconv.Itoa(m.PBPort()),
		"--msgpack-port", strconv.Itoa(m.MsgpackPort()), "--pool", "p"}, api...)...)
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte(allocPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustSA(t, append([]string{"worker", "add", allocWorker, "--pool", "p", "--password-file", pwFile}, api...)...)

	basedir := filepath.Join(dir, "worker")
	out, err := buildslave(t, "create-slave", "--protocol="+msgpack, "--allocator", srv.url, "--allocator-token-file", tok, basedir, allocWorker)
	if err != nil || !strings.Contains(out, "gave master m1") {
		t.Fatalf("create-slave --allocator: %v\n%s", err, out)
	}
	if cfg := readFile(t, filepath.Join(basedir, "buildslave.cfg")); !strings.Contains(cfg, strconv.Itoa(m.MsgpackPort())) {
		t.Errorf("buildslave.cfg does not name the msgpack port %d:\n%s", m.MsgpackPort(), cfg)
	}
	w := runOurs(t, basedir)
	if _, err := m.WaitWorkerConnected(ctx, allocWorker); err != nil {
		t.Fatalf("%v\n%s", err, w.log())
	}
	forceSuccess(t, ctx, m, "b1")
	if log := w.log(); !strings.Contains(log, "config.protocol="+msgpack) {
		t.Errorf("the worker did not run over msgpack:\n%s", log)
	}
}
