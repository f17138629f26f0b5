// Package store keeps the allocator's pools, masters and workers in SQLite
// (embedded, pure Go: the default) or PostgreSQL (for production), behind
// one API. Every change runs in a transaction that is serialised against
// the other changes, so that concurrent requests never lose an update and
// the balance of workers between masters is computed on settled counts.
package store

import (
	"context"
	"crypto/cipher"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"
)

type dialect int

const (
	sqlite dialect = iota
	postgres
)

// Store is an open allocator database.
type Store struct {
	db      *sql.DB
	dialect dialect
	aead    cipher.AEAD // nil: passwords are stored in clear (crypt.go)
}

// Open connects to the database that url names: sqlite:///relative/path,
// sqlite:////absolute/path (SQLAlchemy's spelling, as the original
// allocator's -D took) or postgres://user@host/db (postgresql:// too). It
// does not create or migrate the schema: Init and Migrate do.
func Open(ctx context.Context, dbURL string) (*Store, error) {
	var s Store
	var err error
	switch {
	case strings.HasPrefix(dbURL, "sqlite://"):
		path := strings.TrimPrefix(dbURL, "sqlite://")
		path = strings.TrimPrefix(path, "/")
		if path == "" {
			return nil, fmt.Errorf("database URL %q names no file: use sqlite:///relative.db or sqlite:////absolute.db", dbURL)
		}
		// One connection: SQLite has one writer anyway, and a single
		// connection makes every transaction exclusive without
		// SQLITE_BUSY retries inside this process. busy_timeout covers
		// other processes (a dbdump beside the server).
		dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
			"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_txlock=immediate"
		s.db, err = sql.Open("sqlite", dsn)
		if err == nil {
			s.db.SetMaxOpenConns(1)
		}
		s.dialect = sqlite
	case strings.HasPrefix(dbURL, "postgres://"), strings.HasPrefix(dbURL, "postgresql://"):
		s.db, err = sql.Open("pgx", dbURL)
		if err == nil {
			// Recycle connections before a server or a firewall on the
			// way drops them idle (the original allocator's pool_recycle).
			s.db.SetConnMaxIdleTime(5 * time.Minute)
			s.db.SetConnMaxLifetime(30 * time.Minute)
		}
		s.dialect = postgres
	default:
		return nil, fmt.Errorf("database URL %q: the scheme must be sqlite:// or postgres://", redactURL(dbURL))
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", redactURL(dbURL), err)
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := s.db.PingContext(pctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("connecting to %s: %w", redactURL(dbURL), err)
	}
	return &s, nil
}

// redactURL hides a password in a database URL, for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// q adapts a query written with ? placeholders to the dialect.
func (s *Store) q(query string) string {
	if s.dialect != postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// tx runs fn in a write transaction. On PostgreSQL a transaction-scoped
// advisory lock makes the writers take turns (SQLite's single connection
// already does), which is what keeps read-check-write sequences such as an
// allocation or a move from interleaving. Reads outside tx are not
// blocked.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("starting a transaction: %w", err)
	}
	defer tx.Rollback()
	if s.dialect == postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7106048)"); err != nil {
			return fmt.Errorf("locking: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
