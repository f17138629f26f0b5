package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// migrations, in order; the schema's version is the number applied. Each
// is one statement per element, in SQL both SQLite and PostgreSQL accept.
// Never edit one that has shipped: add the next.
var migrations = [][]string{
	1: {
		`CREATE TABLE pools (
			name TEXT PRIMARY KEY
		)`,
		`CREATE TABLE masters (
			name TEXT PRIMARY KEY,
			host TEXT NOT NULL,
			pb_port INTEGER NOT NULL,
			msgpack_port INTEGER NOT NULL DEFAULT 0,
			pool TEXT NOT NULL REFERENCES pools(name),
			enabled BOOLEAN NOT NULL DEFAULT TRUE
		)`,
		`CREATE TABLE workers (
			name TEXT PRIMARY KEY,
			password TEXT NOT NULL,
			pool TEXT NOT NULL REFERENCES pools(name),
			enabled BOOLEAN NOT NULL DEFAULT TRUE,
			locked_master TEXT REFERENCES masters(name),
			current_master TEXT REFERENCES masters(name),
			notes TEXT NOT NULL DEFAULT '',
			last_fetch_unix BIGINT,
			last_fetch_addr TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE INDEX workers_by_current_master ON workers (current_master)`,
		`CREATE INDEX masters_by_pool ON masters (pool)`,
	},
	2: {
		// Version counters: the API returns them, and a change can be made
		// conditional on one (If-Match), so that a client editing a stale
		// copy is told instead of overwriting someone else's change.
		`ALTER TABLE masters ADD COLUMN version BIGINT NOT NULL DEFAULT 1`,
		`ALTER TABLE workers ADD COLUMN version BIGINT NOT NULL DEFAULT 1`,
	},
}

// SchemaVersion is the version Migrate brings a database to.
func SchemaVersion() int { return len(migrations) - 1 }

// ErrNotInitialized means the database has no allocator schema.
var ErrNotInitialized = errors.New("the database has no slavealloc schema: run 'slavealloc dbinit -D URL' first")

// version reads the schema version; 0 with ErrNotInitialized when there
// is none.
func (s *Store) version(ctx context.Context, q querier) (int, error) {
	// Look before reading: on PostgreSQL a failed statement would abort
	// the whole transaction.
	exists, err := s.tableExists(ctx, q, "schema_migrations")
	if err != nil {
		return 0, fmt.Errorf("reading the schema version: %w", err)
	}
	if !exists {
		return 0, ErrNotInitialized
	}
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("reading the schema version: %w", err)
	}
	return int(v.Int64), nil
}

func (s *Store) tableExists(ctx context.Context, q querier, name string) (bool, error) {
	var n int
	var err error
	if s.dialect == postgres {
		err = q.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1", name).Scan(&n)
	} else {
		err = q.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", name).Scan(&n)
	}
	return n > 0, err
}

// Init creates the schema in an empty database. A database that already
// has one is refused unless force is set, in which case everything in it
// is dropped first: dbinit must not wipe production by accident.
func (s *Store) Init(ctx context.Context, force bool) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		v, err := s.version(ctx, tx)
		if err != nil && !errors.Is(err, ErrNotInitialized) {
			return err
		}
		if err == nil {
			if !force {
				return fmt.Errorf("the database already has a slavealloc schema (version %d); "+
					"back it up with dbdump and use --force to wipe it: %w", v, ErrConflict)
			}
			for _, t := range []string{"workers", "masters", "pools", "schema_migrations"} {
				if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+t); err != nil {
					return fmt.Errorf("dropping %s: %w", t, err)
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE schema_migrations (
			version INTEGER PRIMARY KEY,
			applied_unix BIGINT NOT NULL
		)`); err != nil {
			return fmt.Errorf("creating the schema: %w", err)
		}
		return s.migrateTx(ctx, tx, 0, SchemaVersion())
	})
}

// Migrate brings an initialized database's schema to SchemaVersion and
// returns the versions applied.
func (s *Store) Migrate(ctx context.Context) (from, to int, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		from, err = s.version(ctx, tx)
		if err != nil {
			return err
		}
		if from > SchemaVersion() {
			return fmt.Errorf("the database's schema version %d is newer than this slavealloc's (%d): upgrade slavealloc", from, SchemaVersion())
		}
		return s.migrateTx(ctx, tx, from, SchemaVersion())
	})
	return from, SchemaVersion(), err
}

// migrateTx applies the migrations after from up to and including to.
func (s *Store) migrateTx(ctx context.Context, tx *sql.Tx, from, to int) error {
	for v := from + 1; v <= to; v++ {
		for _, stmt := range migrations[v] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("schema migration %d: %w", v, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q("INSERT INTO schema_migrations (version, applied_unix) VALUES (?, ?)"), v, time.Now().Unix()); err != nil {
			return fmt.Errorf("schema migration %d: %w", v, err)
		}
	}
	return nil
}
