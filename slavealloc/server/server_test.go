package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/internal/pgtest"
	"github.com/buildslave/buildslave/internal/syncbuf"
	"github.com/buildslave/buildslave/slavealloc/store"
	"github.com/buildslave/buildslave/slavealloc/token"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

const password = "Pw-with'quote\"and\\slash"

// fixture is a running server with an admin token, a token of worker w1,
// pool p, enabled masters m1 and m2 (m2 with a msgpack port) and workers
// w1, w2.
type fixture struct {
	srv       *httptest.Server
	admin, w1 string
	log       *syncbuf.Buffer
	store     *store.Store
	client    *http.Client
	tokens    *token.Set
}

func newFixture(t *testing.T, dbURL string) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Init(ctx, false); err != nil {
		t.Fatal(err)
	}
	f := &fixture{admin: token.New(), w1: token.New(), log: &syncbuf.Buffer{}, store: st}
	tf := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tf, []byte(f.admin+"\n"+token.Hash(f.w1)+" worker:w1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := token.Load(tf)
	if err != nil {
		t.Fatal(err)
	}
	f.tokens = set
	s := New(st, set, slog.New(slog.NewTextHandler(f.log, nil)))
	f.srv = httptest.NewServer(s.Handler())
	t.Cleanup(f.srv.Close)
	f.client = f.srv.Client()
	f.do(t, "POST", "/api/pools", f.admin, `{"name":"p"}`, 201)
	f.do(t, "POST", "/api/masters", f.admin, `{"name":"m1","host":"127.0.0.1","pb_port":9001,"pool":"p"}`, 201)
	f.do(t, "POST", "/api/masters", f.admin, `{"name":"m2","host":"127.0.0.1","pb_port":9002,"msgpack_port":9102,"pool":"p"}`, 201)
	pw, _ := json.Marshal(password)
	f.do(t, "POST", "/api/workers", f.admin, `{"name":"w1","pool":"p","password":`+string(pw)+`}`, 201)
	f.do(t, "POST", "/api/workers", f.admin, `{"name":"w2","pool":"p","password":"other"}`, 201)
	return f
}

// do sends a request and checks its status; it returns the body and the
// response.
func (f *fixture) do(t *testing.T, method, path, tok, body string, want int) (string, *http.Response) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
	if want >= 400 {
		var e apiError
		if err := json.Unmarshal(data, &e); err != nil || e.Error == "" {
			t.Errorf("%s %s: error body is not {\"error\": ...}: %s", method, path, data)
		}
	}
	return string(data), resp
}

func TestGetTac(t *testing.T) {
	f := newFixture(t, "sqlite:///"+filepath.Join(t.TempDir(), "a.db"))
	body, resp := f.do(t, "GET", "/gettac/w1", f.w1, "", 200)
	tac, err := config.ParseTac(body)
	if err != nil || len(tac.NotUnderstood) > 0 {
		t.Fatalf("ParseTac: %v %v\n%s", err, tac.NotUnderstood, body)
	}
	c := tac.Config
	if c.Name != "w1" || c.Password != password || c.MasterHost != "127.0.0.1" || c.MasterPort != 9001 || !c.Relocatable {
		t.Errorf("tac config: %+v", c)
	}
	if resp.Header.Get("X-Slavealloc-Master") != "m1" || resp.Header.Get("X-Slavealloc-Reason") == "" {
		t.Errorf("headers: %v", resp.Header)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("a password-bearing answer may be cached: %v", resp.Header)
	}
	// The second worker goes to the other master; the cfg format reads
	// back through config.Parse.
	body, _ = f.do(t, "GET", "/gettac/w2?format=cfg", f.admin, "", 200)
	cfg, err := config.Parse([]byte(body), t.TempDir())
	if err != nil || cfg.Name != "w2" || cfg.Password != "other" || cfg.MasterPort != 9002 {
		t.Errorf("cfg: %+v, %v\n%s", cfg, err, body)
	}
	body, _ = f.do(t, "GET", "/gettac/w2?format=cfg&protocol=msgpack_experimental_v7", f.admin, "", 200)
	if cfg, err := config.Parse([]byte(body), "/"); err != nil || cfg.MasterPort != 9102 || cfg.Protocol != config.ProtocolMsgpack {
		t.Errorf("msgpack cfg: %+v %v", cfg, err)
	}
	f.do(t, "GET", "/gettac/w1?protocol=msgpack", f.admin, "", 409) // m1 has no msgpack port
	f.do(t, "GET", "/gettac/w1", "", "", 401)
	f.do(t, "GET", "/gettac/w1", "wrong-token-wrong-token", "", 401)
	f.do(t, "GET", "/gettac/w2", f.w1, "", 403)
	f.do(t, "GET", "/gettac/nobody", f.admin, "", 404)
	f.do(t, "GET", "/gettac/w1?format=xml", f.admin, "", 400)
	f.do(t, "POST", "/api/workers/w1/disable", f.admin, "", 200)
	f.do(t, "GET", "/gettac/w1", f.w1, "", 409)
	if strings.Contains(f.log.String(), password) || strings.Contains(f.log.String(), "other") {
		t.Errorf("a password reached the log:\n%s", f.log.String())
	}
	if !strings.Contains(f.log.String(), "allocated") {
		t.Errorf("allocations are not logged:\n%s", f.log.String())
	}
}

func TestAuthorization(t *testing.T) {
	f := newFixture(t, "sqlite:///"+filepath.Join(t.TempDir(), "a.db"))
	// Open reads: health check and listings without passwords.
	body, _ := f.do(t, "GET", "/api/pools", "", "", 200)
	var pools []store.PoolInfo
	if err := json.Unmarshal([]byte(body), &pools); err != nil || len(pools) != 1 || pools[0].Masters != 2 || pools[0].Workers != 2 {
		t.Errorf("pools: %s", body)
	}
	body, _ = f.do(t, "GET", "/api/workers", "", "", 200)
	if strings.Contains(body, "password") {
		t.Errorf("an open listing shows passwords: %s", body)
	}
	f.do(t, "GET", "/api/workers?passwords=1", "", "", 401)
	f.do(t, "GET", "/api/workers/w1?passwords=1", f.w1, "", 403)
	body, _ = f.do(t, "GET", "/api/workers/w1?passwords=1", f.admin, "", 200)
	if !strings.Contains(body, `"password"`) {
		t.Errorf("admin read without the password: %s", body)
	}
	// Every change needs an admin token.
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/pools", `{"name":"q"}`},
		{"POST", "/api/masters", `{"name":"m9","host":"h","pb_port":1,"pool":"p"}`},
		{"PATCH", "/api/masters/m1", `{"enabled":false}`},
		{"POST", "/api/masters/m1/disable", ``},
		{"POST", "/api/workers", `{"name":"w9","pool":"p","password":"x"}`},
		{"PATCH", "/api/workers/w1", `{"notes":"x"}`},
		{"POST", "/api/workers/w1/move", `{"master":"m2"}`},
		{"POST", "/api/workers/w1/lock", `{"master":"m2"}`},
		{"POST", "/api/workers/w1/unlock", ``},
		{"POST", "/api/workers/w1/disable", ``},
	} {
		_, resp := f.do(t, c.method, c.path, "", c.body, 401)
		if resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s %s: 401 without WWW-Authenticate", c.method, c.path)
		}
		f.do(t, c.method, c.path, f.w1, c.body, 403)
	}
	wk, _ := f.store.GetWorker(context.Background(), "w1", false)
	if wk.Notes != "" || !wk.Enabled || wk.LockedMaster != "" || wk.CurrentMaster != "" {
		t.Errorf("a refused change happened: %+v", wk)
	}
}

func TestChangesAndErrors(t *testing.T) {
	f := newFixture(t, "sqlite:///"+filepath.Join(t.TempDir(), "a.db"))
	body, _ := f.do(t, "POST", "/api/workers/w1/move", f.admin, `{"master":"m2"}`, 200)
	if !strings.Contains(body, `"current_master": "m2"`) {
		t.Errorf("move: %s", body)
	}
	f.do(t, "POST", "/api/workers/w1/lock", f.admin, `{"master":"m1"}`, 200)
	f.do(t, "POST", "/api/workers/w1/move", f.admin, `{"master":"m2"}`, 409)
	f.do(t, "POST", "/api/workers/w1/unlock", f.admin, ``, 200)
	f.do(t, "POST", "/api/masters/m2/disable", f.admin, ``, 200)
	f.do(t, "POST", "/api/workers/w1/move", f.admin, `{"master":"m2"}`, 409)
	f.do(t, "POST", "/api/masters/m2/enable", f.admin, ``, 200)
	body, _ = f.do(t, "PATCH", "/api/workers/w2", f.admin, `{"notes":"rack 3"}`, 200)
	if !strings.Contains(body, "rack 3") {
		t.Errorf("patch: %s", body)
	}
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/api/workers", `{"name":"w3","pool":"p","password":"x","colour":"red"}`, 400},
		{"POST", "/api/workers", `{"name":"bad name","pool":"p","password":"x"}`, 400},
		{"POST", "/api/workers", `{"name":"w1","pool":"p","password":"x"}`, 409},
		{"POST", "/api/workers", `{"name":"w3","pool":"nopool","password":"x"}`, 400},
		{"POST", "/api/workers", `not json`, 400},
		{"POST", "/api/masters", `{"name":"m3","host":"h","pb_port":70000,"pool":"p"}`, 400},
		{"POST", "/api/workers/w1/move", `{"master":"nope"}`, 400},
		{"POST", "/api/workers/w1/fly", ``, 404},
		{"GET", "/api/workers/nobody", ``, 404},
		{"DELETE", "/api/pools", ``, 405},
		{"GET", "/api/nothing", ``, 404},
		{"GET", "/nothing", ``, 404},
		{"POST", "/", ``, 405},
	} {
		f.do(t, c.method, c.path, f.admin, c.body, c.want)
	}
	body, resp := f.do(t, "DELETE", "/api/pools", f.admin, "", 405)
	if !strings.Contains(body, "allowed: GET, HEAD, POST") || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("405: %s %v", body, resp.Header)
	}
}

// TestIfMatch: a change conditional on a version is refused once someone
// else changed the object.
func TestIfMatch(t *testing.T) {
	f := newFixture(t, "sqlite:///"+filepath.Join(t.TempDir(), "a.db"))
	body, _ := f.do(t, "GET", "/api/workers/w2", "", "", 200)
	var wk store.Worker
	if err := json.Unmarshal([]byte(body), &wk); err != nil {
		t.Fatal(err)
	}
	req := func(version int64, notes string) int {
		r, _ := http.NewRequest("PATCH", f.srv.URL+"/api/workers/w2", strings.NewReader(`{"notes":"`+notes+`"}`))
		r.Header.Set("Authorization", "Bearer "+f.admin)
		r.Header.Set("If-Match", jsonInt(version))
		resp, err := f.client.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := req(wk.Version, "first"); got != 200 {
		t.Fatalf("current version: %d", got)
	}
	if got := req(wk.Version, "second"); got != 409 {
		t.Fatalf("stale version: %d", got)
	}
}

func jsonInt(v int64) string { b, _ := json.Marshal(v); return string(b) }

// TestPostgres runs the API over PostgreSQL.
func TestPostgres(t *testing.T) {
	f := newFixture(t, pgtest.URL(t))
	body, _ := f.do(t, "GET", "/gettac/w1", f.w1, "", 200)
	if tac, err := config.ParseTac(body); err != nil || tac.Config.Password != password {
		t.Fatalf("tac over PostgreSQL: %v", err)
	}
	f.do(t, "POST", "/api/workers/w1/move", f.admin, `{"master":"m2"}`, 200)
	_, resp := f.do(t, "GET", "/gettac/w1", f.w1, "", 200)
	if resp.Header.Get("X-Slavealloc-Master") != "m2" {
		t.Errorf("after a move: %v", resp.Header)
	}
}

// TestForwardedFor: behind a proxy the recorded address is the one the
// proxy appended; otherwise the header is ignored.
func TestForwardedFor(t *testing.T) {
	f := newFixture(t, "sqlite:///"+filepath.Join(t.TempDir(), "a.db"))
	fetch := func(url string) {
		req, _ := http.NewRequest("GET", url+"/gettac/w1", nil)
		req.Header.Set("Authorization", "Bearer "+f.admin)
		req.Header.Set("X-Forwarded-For", "192.0.2.7, 198.51.100.9")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	fetch(f.srv.URL)
	if w, _ := f.store.GetWorker(context.Background(), "w1", false); w.LastFetchAddr != "127.0.0.1" {
		t.Errorf("without a proxy: %q", w.LastFetchAddr)
	}
	s := New(f.store, f.tokens, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.TrustForwardedFor = true
	proxied := httptest.NewServer(s.Handler())
	defer proxied.Close()
	fetch(proxied.URL)
	if w, _ := f.store.GetWorker(context.Background(), "w1", false); w.LastFetchAddr != "198.51.100.9" {
		t.Errorf("behind a proxy: %q", w.LastFetchAddr)
	}
}

// TestConcurrentRequests: parallel changes through the API, on both
// databases, all succeed and all stick.
func TestConcurrentRequests(t *testing.T) {
	for name, url := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:///" + filepath.Join(t.TempDir(), "a.db") },
		"postgres": func(t *testing.T) string { return pgtest.URL(t) },
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, url(t))
			const n = 16
			for i := range n {
				f.do(t, "POST", "/api/workers", f.admin, `{"name":"c`+strconv.Itoa(i)+`","pool":"p","password":"x"}`, 201)
			}
			var wg sync.WaitGroup
			errs := make(chan string, 3*n)
			send := func(method, path, body, tok string) {
				defer wg.Done()
				req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := f.client.Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				data, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs <- fmt.Sprintf("%s %s: %d %s", method, path, resp.StatusCode, data)
				}
			}
			for i := range n {
				w := "/api/workers/c" + strconv.Itoa(i)
				wg.Add(3)
				go send("PATCH", w, `{"notes":"n`+strconv.Itoa(i)+`"}`, f.admin)
				go send("POST", w+"/lock", `{"master":"m2"}`, f.admin)
				go send("GET", "/gettac/c"+strconv.Itoa(i), "", f.admin)
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
			ws, err := f.store.ListWorkers(context.Background(), "p", false)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range ws {
				if !strings.HasPrefix(w.Name, "c") {
					continue
				}
				if w.Notes != "n"+strings.TrimPrefix(w.Name, "c") || w.LockedMaster != "m2" || w.CurrentMaster != "m2" || w.LastFetch == nil {
					t.Errorf("lost update: %+v", w)
				}
			}
		})
	}
}
