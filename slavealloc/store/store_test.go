package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buildslave/buildslave/internal/pgtest"
	"github.com/buildslave/buildslave/slavealloc/alloc"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// eachDB runs fn against a fresh SQLite file and a fresh PostgreSQL
// database.
func eachDB(t *testing.T, fn func(t *testing.T, url string)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, "sqlite:///"+filepath.Join(t.TempDir(), "alloc.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, pgtest.URL(t))
	})
}

func openInit(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Init(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	return s
}

// fleet makes pool p with masters m1, m2 (enabled) and m3 (disabled).
func fleet(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	must(t, s.CreatePool(ctx, "p"))
	for _, m := range []Master{
		{Name: "m1", Host: "127.0.0.1", PBPort: 9001, Pool: "p", Enabled: true},
		{Name: "m2", Host: "127.0.0.1", PBPort: 9002, MsgpackPort: 9102, Pool: "p", Enabled: true},
		{Name: "m3", Host: "::1", PBPort: 9003, Pool: "p"},
	} {
		if _, err := s.CreateMaster(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestInitAndMigrate(t *testing.T) {
	eachDB(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s, err := Open(ctx, url)
		must(t, err)
		defer s.Close()
		if _, _, err := s.Migrate(ctx); !errors.Is(err, ErrNotInitialized) {
			t.Fatalf("Migrate before Init: %v", err)
		}
		must(t, s.Init(ctx, false))
		if err := s.Init(ctx, false); !errors.Is(err, ErrConflict) {
			t.Fatalf("second Init without force: %v", err)
		}
		must(t, s.CreatePool(ctx, "p"))
		from, to, err := s.Migrate(ctx)
		if err != nil || from != SchemaVersion() || to != SchemaVersion() {
			t.Fatalf("Migrate on a current schema: %d→%d, %v", from, to, err)
		}
		must(t, s.Init(ctx, true))
		if pools, _ := s.ListPools(ctx); len(pools) != 0 {
			t.Errorf("Init --force kept %v", pools)
		}
	})
}

// TestMigrateFromVersion1: a database made by the first schema is brought
// forward, keeping its rows.
func TestMigrateFromVersion1(t *testing.T) {
	eachDB(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s, err := Open(ctx, url)
		must(t, err)
		defer s.Close()
		must(t, s.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_unix BIGINT NOT NULL)"); err != nil {
				return err
			}
			return s.migrateTx(ctx, tx, 0, 1)
		}))
		must(t, s.CreatePool(ctx, "p"))
		_, err = s.db.ExecContext(ctx, s.q("INSERT INTO workers (name, password, pool, enabled, notes) VALUES (?, 'pw', 'p', TRUE, '')"), "old")
		must(t, err)
		from, to, err := s.Migrate(ctx)
		if err != nil || from != 1 || to != SchemaVersion() {
			t.Fatalf("Migrate: %d→%d, %v", from, to, err)
		}
		w, err := s.GetWorker(ctx, "old", true)
		if err != nil || w.Password != "pw" || w.Version != 1 {
			t.Errorf("after migration: %+v, %v", w, err)
		}
	})
}

func TestAllocate(t *testing.T) {
	eachDB(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openInit(t, url)
		fleet(t, s)
		for i := range 4 {
			_, err := s.CreateWorker(ctx, Worker{Name: fmt.Sprintf("w%d", i), Password: "pw", Pool: "p", Enabled: true})
			must(t, err)
		}
		now := time.Unix(1700000000, 0)
		got := map[string]int{}
		for i := range 4 {
			a, err := s.Allocate(ctx, fmt.Sprintf("w%d", i), "127.0.0.9", now)
			must(t, err)
			if a.Worker.Password != "pw" || a.Decision.Kind != alloc.Balanced {
				t.Errorf("first allocation: %+v", a)
			}
			got[a.Master.Name]++
		}
		if got["m1"] != 2 || got["m2"] != 2 {
			t.Errorf("balance: %v", got)
		}
		a, err := s.Allocate(ctx, "w0", "127.0.0.9", now)
		must(t, err)
		if a.Decision.Kind != alloc.Sticky {
			t.Errorf("second fetch: %+v", a.Decision)
		}
		w, _ := s.GetWorker(ctx, "w0", false)
		if w.LastFetch == nil || !w.LastFetch.Equal(now) || w.LastFetchAddr != "127.0.0.9" || w.Password != "" {
			t.Errorf("recorded fetch: %+v", w)
		}
		// Disable w0's master: it moves to the other one.
		old := a.Master.Name
		f := false
		_, err = s.UpdateMaster(ctx, old, MasterPatch{Enabled: &f}, 0)
		must(t, err)
		a, err = s.Allocate(ctx, "w0", "x", now)
		must(t, err)
		if a.Master.Name == old || a.Decision.Kind != alloc.Balanced || !strings.Contains(a.Decision.Reason, "disabled") {
			t.Errorf("after disabling %s: %+v", old, a.Decision)
		}
		// Locked: always its master, even disabled.
		_, err = s.LockWorker(ctx, "w1", "m3")
		must(t, err)
		a, err = s.Allocate(ctx, "w1", "x", now)
		must(t, err)
		if a.Master.Name != "m3" || a.Decision.Kind != alloc.Locked {
			t.Errorf("locked: %+v", a.Decision)
		}
		if _, err := s.MoveWorker(ctx, "w1", "m1", ""); !errors.Is(err, ErrConflict) {
			t.Errorf("moving a locked worker: %v", err)
		}
		_, err = s.LockWorker(ctx, "w1", "")
		must(t, err)
		// Disabled worker, then a pool with no enabled master.
		_, err = s.UpdateWorker(ctx, "w2", WorkerPatch{Enabled: &f}, 0)
		must(t, err)
		if _, err := s.Allocate(ctx, "w2", "x", now); !errors.Is(err, ErrConflict) {
			t.Errorf("disabled worker: %v", err)
		}
		for _, m := range []string{"m1", "m2"} {
			_, err = s.UpdateMaster(ctx, m, MasterPatch{Enabled: &f}, 0)
			must(t, err)
		}
		if _, err := s.Allocate(ctx, "w3", "x", now); !errors.Is(err, ErrUnavailable) {
			t.Errorf("no enabled master: %v", err)
		}
		if _, err := s.Allocate(ctx, "nobody", "x", now); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown worker: %v", err)
		}
	})
}

func TestMoveAndValidation(t *testing.T) {
	eachDB(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openInit(t, url)
		fleet(t, s)
		must(t, s.CreatePool(ctx, "q"))
		_, err := s.CreateWorker(ctx, Worker{Name: "w", Password: "pw", Pool: "p", Enabled: true})
		must(t, err)
		w, err := s.MoveWorker(ctx, "w", "m2", "")
		must(t, err)
		if w.CurrentMaster != "m2" {
			t.Errorf("move: %+v", w)
		}
		if _, err := s.MoveWorker(ctx, "w", "m3", ""); !errors.Is(err, ErrConflict) {
			t.Errorf("move to a disabled master: %v", err)
		}
		if _, err := s.MoveWorker(ctx, "w", "nope", ""); !errors.Is(err, ErrInvalid) {
			t.Errorf("move to an unknown master: %v", err)
		}
		w, err = s.MoveWorker(ctx, "w", "", "q")
		must(t, err)
		if w.Pool != "q" || w.CurrentMaster != "" {
			t.Errorf("move to pool q: %+v", w)
		}
		for _, bad := range []Worker{
			{Name: "bad name", Password: "pw", Pool: "p"},
			{Name: "w9", Password: "", Pool: "p"},
			{Name: "w9", Password: "a\nb", Pool: "p"},
			{Name: "w9", Password: "pw", Pool: "nopool"},
		} {
			if _, err := s.CreateWorker(ctx, bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("CreateWorker(%+v): %v", bad, err)
			}
		}
		if _, err := s.CreateWorker(ctx, Worker{Name: "w", Password: "pw", Pool: "p"}); !errors.Is(err, ErrConflict) {
			t.Errorf("duplicate worker: %v", err)
		}
		if _, err := s.CreateMaster(ctx, Master{Name: "mx", Host: "h'; x", PBPort: 1, Pool: "p"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("bad host: %v", err)
		}
		// If-Match.
		notes := "n"
		if _, err := s.UpdateWorker(ctx, "w", WorkerPatch{Notes: &notes}, w.Version-1); !errors.Is(err, ErrConflict) {
			t.Errorf("stale version: %v", err)
		}
		w2, err := s.UpdateWorker(ctx, "w", WorkerPatch{Notes: &notes}, w.Version)
		if err != nil || w2.Version != w.Version+1 || w2.Notes != "n" {
			t.Errorf("current version: %+v %v", w2, err)
		}
	})
}

// TestConcurrentChangesLoseNothing: many clients change different fields
// of the same worker, and allocate many workers, at the same time; every
// change survives and the balance is exact.
func TestConcurrentChangesLoseNothing(t *testing.T) {
	eachDB(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openInit(t, url)
		fleet(t, s)
		const n = 20
		for i := range n {
			_, err := s.CreateWorker(ctx, Worker{Name: fmt.Sprintf("w%d", i), Password: "pw", Pool: "p", Enabled: true})
			must(t, err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 3*n)
		for i := range n {
			wg.Add(3)
			go func() {
				defer wg.Done()
				_, err := s.Allocate(ctx, fmt.Sprintf("w%d", i), "x", time.Now())
				errs <- err
			}()
			go func() {
				defer wg.Done()
				notes := fmt.Sprintf("note %d", i)
				_, err := s.UpdateWorker(ctx, fmt.Sprintf("w%d", i), WorkerPatch{Notes: &notes}, 0)
				errs <- err
			}()
			go func() {
				defer wg.Done()
				pw := fmt.Sprintf("pw%d", i)
				_, err := s.UpdateWorker(ctx, fmt.Sprintf("w%d", i), WorkerPatch{Password: &pw}, 0)
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			must(t, err)
		}
		ws, err := s.ListWorkers(ctx, "p", true)
		must(t, err)
		count := map[string]int{}
		for _, w := range ws {
			var i int
			if _, err := fmt.Sscanf(w.Name, "w%d", &i); err != nil {
				t.Fatal(err)
			}
			if w.Notes != fmt.Sprintf("note %d", i) || w.Password != fmt.Sprintf("pw%d", i) || w.CurrentMaster == "" || w.Version != 3 {
				t.Errorf("lost update: %+v", w)
			}
			count[w.CurrentMaster]++
		}
		if count["m1"] != n/2 || count["m2"] != n/2 {
			t.Errorf("balance under concurrency: %v", count)
		}
	})
}

// TestDumpLoadAcrossDatabases: a dump of one kind of database loads into
// the other, and dumps the same again.
func TestDumpLoadAcrossDatabases(t *testing.T) {
	ctx := context.Background()
	src := openInit(t, "sqlite:///"+filepath.Join(t.TempDir(), "a.db"))
	fleet(t, src)
	_, err := src.CreateWorker(ctx, Worker{Name: "w", Password: `p"w'\`, Pool: "p", Enabled: true, Notes: "rack 4"})
	must(t, err)
	_, err = src.Allocate(ctx, "w", "10.0.0.1", time.Unix(1700000000, 0))
	must(t, err)
	_, err = src.LockWorker(ctx, "w", "m2")
	must(t, err)
	var dump bytes.Buffer
	must(t, src.DumpTo(ctx, &dump))

	dst := openInit(t, pgtest.URL(t))
	must(t, dst.LoadFrom(ctx, bytes.NewReader(dump.Bytes())))
	if err := dst.LoadFrom(ctx, bytes.NewReader(dump.Bytes())); !errors.Is(err, ErrConflict) {
		t.Errorf("loading into a non-empty database: %v", err)
	}
	back := openInit(t, "sqlite:///"+filepath.Join(t.TempDir(), "b.db"))
	var dump2, dump3 bytes.Buffer
	must(t, dst.DumpTo(ctx, &dump2))
	must(t, back.LoadFrom(ctx, &dump2))
	must(t, back.DumpTo(ctx, &dump3))
	strip := func(s string) string { // the time taken differs
		i := strings.Index(s, `"pools"`)
		return s[i:]
	}
	if strip(dump.String()) != strip(dump3.String()) {
		t.Errorf("round trip changed the dump:\n%s\n---\n%s", dump.String(), dump3.String())
	}
	w, err := back.GetWorker(ctx, "w", true)
	if err != nil || w.Password != `p"w'\` || w.LockedMaster != "m2" || w.Notes != "rack 4" || w.LastFetchAddr != "10.0.0.1" {
		t.Errorf("loaded worker: %+v %v", w, err)
	}
	if err := back.LoadFrom(ctx, strings.NewReader(`{"format":"other"}`)); !errors.Is(err, ErrInvalid) {
		t.Errorf("foreign dump: %v", err)
	}
}

func TestOpenURLs(t *testing.T) {
	ctx := context.Background()
	for _, u := range []string{"mysql://x/y", "sqlite://", "/plain/path"} {
		if _, err := Open(ctx, u); err == nil {
			t.Errorf("Open(%q) accepted", u)
		}
	}
	if got := redactURL("postgres://u:secret@h/db"); strings.Contains(got, "secret") {
		t.Errorf("redactURL = %s", got)
	}
}
