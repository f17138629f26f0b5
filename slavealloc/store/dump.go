package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// DumpFormat names the dump's layout; DumpVersion grows when it changes.
const (
	DumpFormat  = "slavealloc-dump"
	DumpVersion = 1
)

// Dump is a database's whole content in a form independent of the
// database kind: a dump of SQLite loads into PostgreSQL and back, which is
// how production is copied into staging.
type Dump struct {
	Format  string       `json:"format"`
	Version int          `json:"version"`
	Taken   time.Time    `json:"taken"`
	Pools   []Pool       `json:"pools"`
	Masters []DumpMaster `json:"masters"`
	Workers []Worker     `json:"workers"`
}

// DumpMaster is a master as dumped: without its derived worker count.
type DumpMaster struct {
	Name        string `json:"name"`
	Host        string `json:"host"`
	PBPort      int    `json:"pb_port"`
	MsgpackPort int    `json:"msgpack_port"`
	Pool        string `json:"pool"`
	Enabled     bool   `json:"enabled"`
}

// DumpTo writes the database's content as JSON. It reads in one
// transaction, so the dump is consistent even while the server runs.
func (s *Store) DumpTo(ctx context.Context, w io.Writer) error {
	d := Dump{Format: DumpFormat, Version: DumpVersion, Taken: time.Now().UTC()}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: s.dialect == postgres})
	if err != nil {
		return fmt.Errorf("dumping: %w", err)
	}
	defer tx.Rollback()
	if _, err := s.version(ctx, tx); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, "SELECT name FROM pools ORDER BY name")
	if err != nil {
		return fmt.Errorf("dumping pools: %w", err)
	}
	for rows.Next() {
		var p Pool
		if err := rows.Scan(&p.Name); err != nil {
			rows.Close()
			return err
		}
		d.Pools = append(d.Pools, p)
	}
	rows.Close()
	rows, err = tx.QueryContext(ctx, "SELECT name, host, pb_port, msgpack_port, pool, enabled FROM masters ORDER BY name")
	if err != nil {
		return fmt.Errorf("dumping masters: %w", err)
	}
	for rows.Next() {
		var m DumpMaster
		if err := rows.Scan(&m.Name, &m.Host, &m.PBPort, &m.MsgpackPort, &m.Pool, &m.Enabled); err != nil {
			rows.Close()
			return err
		}
		d.Masters = append(d.Masters, m)
	}
	rows.Close()
	rows, err = tx.QueryContext(ctx, "SELECT "+workerColumns+" FROM workers ORDER BY name")
	if err != nil {
		return fmt.Errorf("dumping workers: %w", err)
	}
	for rows.Next() {
		wk, err := scanWorker(rows, true)
		if err != nil {
			rows.Close()
			return err
		}
		wk.Version = 0 // a load starts the counters afresh
		if wk.Password, err = s.reveal(wk.Name, wk.Password); err != nil {
			rows.Close()
			return err
		}
		d.Workers = append(d.Workers, wk)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// LoadFrom reads a dump made by DumpTo into an initialized, empty
// database, checking every object as the API would.
func (s *Store) LoadFrom(ctx context.Context, r io.Reader) error {
	var d Dump
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return invalid("reading the dump: %v", err)
	}
	if d.Format != DumpFormat || d.Version < 1 || d.Version > DumpVersion {
		return invalid("this is not a slavealloc dump of version 1..%d (format %q, version %d)", DumpVersion, d.Format, d.Version)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.version(ctx, tx); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM pools) + (SELECT COUNT(*) FROM masters) + (SELECT COUNT(*) FROM workers)").Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return conflict("the database is not empty (%d objects): load a dump only into a fresh one (dbinit --force wipes one)", n)
		}
		for _, p := range d.Pools {
			if err := CheckName("pool", p.Name); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.q("INSERT INTO pools (name) VALUES (?)"), p.Name); err != nil {
				return wrap(err, "loading pool %s", p.Name)
			}
		}
		for _, m := range d.Masters {
			mm := Master{Name: m.Name, Host: m.Host, PBPort: m.PBPort, MsgpackPort: m.MsgpackPort, Pool: m.Pool}
			if err := checkMaster(&mm); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.q("INSERT INTO masters (name, host, pb_port, msgpack_port, pool, enabled) VALUES (?, ?, ?, ?, ?, ?)"),
				m.Name, m.Host, m.PBPort, m.MsgpackPort, m.Pool, m.Enabled); err != nil {
				return wrap(err, "loading master %s", m.Name)
			}
		}
		for _, w := range d.Workers {
			if err := checkWorker(&w); err != nil {
				return err
			}
			var fetched any
			if w.LastFetch != nil {
				fetched = w.LastFetch.Unix()
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO workers (name, password, pool, enabled, locked_master, current_master, notes, last_fetch_unix, last_fetch_addr)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
				w.Name, s.seal(w.Name, w.Password), w.Pool, w.Enabled, nullString(w.LockedMaster), nullString(w.CurrentMaster), w.Notes, fetched, w.LastFetchAddr); err != nil {
				return wrap(err, "loading worker %s", w.Name)
			}
		}
		return nil
	})
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
