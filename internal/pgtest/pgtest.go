// Package pgtest gives tests a real PostgreSQL server: the one named by
// $BUILDSLAVE_TEST_POSTGRES (an administrator's URL), or else a private
// throw-away cluster made with Debian's postgresql binaries (initdb,
// postgres) in a temporary directory, listening on a free loopback port,
// run as the postgres user when the tests run as root. Each test gets a
// database of its own. Without PostgreSQL the tests skip, except in CI
// ($CI=true), where they fail: .ci/run installs it.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// EnvURL names the variable that points the tests at an existing server.
const EnvURL = "BUILDSLAVE_TEST_POSTGRES"

var (
	once    sync.Once
	admin   string // URL of the server's postgres database
	startEr error
	stop    func()
)

// URL returns the URL of a new empty database, dropped when t ends.
func URL(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if u := os.Getenv(EnvURL); u != "" {
			admin = u
			return
		}
		admin, stop, startEr = startCluster()
	})
	if startEr != nil {
		if os.Getenv("CI") == "true" && !unsupported(startEr) {
			t.Fatalf("PostgreSQL is needed in CI: %v", startEr)
		}
		t.Skipf("no PostgreSQL server for this test: %v (install Debian's postgresql package, or set %s)", startEr, EnvURL)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b [6]byte
	rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating a test database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// Stop ends the private cluster, if one was started; TestMain calls it.
func Stop() {
	if stop != nil {
		stop()
	}
}
