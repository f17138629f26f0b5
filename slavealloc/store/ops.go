package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/buildslave/buildslave/slavealloc/alloc"
)

// ListPools lists the pools with their head counts. It is one query: the
// monitoring's health check calls it.
func (s *Store) ListPools(ctx context.Context) ([]PoolInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT p.name,
		(SELECT COUNT(*) FROM masters m WHERE m.pool = p.name),
		(SELECT COUNT(*) FROM workers w WHERE w.pool = p.name)
		FROM pools p ORDER BY p.name`)
	if err != nil {
		return nil, fmt.Errorf("listing pools: %w", err)
	}
	defer rows.Close()
	out := []PoolInfo{}
	for rows.Next() {
		var p PoolInfo
		if err := rows.Scan(&p.Name, &p.Masters, &p.Workers); err != nil {
			return nil, fmt.Errorf("listing pools: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// GetPool returns one pool with its head counts.
func (s *Store) GetPool(ctx context.Context, name string) (PoolInfo, error) {
	pools, err := s.ListPools(ctx)
	if err != nil {
		return PoolInfo{}, err
	}
	for _, p := range pools {
		if p.Name == name {
			return p, nil
		}
	}
	return PoolInfo{}, notFound("pool %q does not exist", name)
}

// CreatePool adds a pool.
func (s *Store) CreatePool(ctx context.Context, name string) error {
	if err := CheckName("pool", name); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if ok, err := exists(ctx, tx, s.q("SELECT 1 FROM pools WHERE name = ?"), name); err != nil || ok {
			if ok {
				return conflict("pool %q already exists", name)
			}
			return err
		}
		_, err := tx.ExecContext(ctx, s.q("INSERT INTO pools (name) VALUES (?)"), name)
		return wrap(err, "creating pool %s", name)
	})
}

func exists(ctx context.Context, q querier, query string, args ...any) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, query, args...).Scan(&one)
	if isNoRows(err) {
		return false, nil
	}
	return err == nil, err
}

func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
}

const masterColumns = `m.name, m.host, m.pb_port, m.msgpack_port, m.pool, m.enabled, m.version,
	(SELECT COUNT(*) FROM workers w WHERE w.current_master = m.name)`

func scanMaster(sc interface{ Scan(...any) error }) (Master, error) {
	var m Master
	err := sc.Scan(&m.Name, &m.Host, &m.PBPort, &m.MsgpackPort, &m.Pool, &m.Enabled, &m.Version, &m.Workers)
	return m, err
}

// ListMasters lists the masters, of one pool when pool is not empty.
func (s *Store) ListMasters(ctx context.Context, pool string) ([]Master, error) {
	query := "SELECT " + masterColumns + " FROM masters m"
	var args []any
	if pool != "" {
		query += " WHERE m.pool = ?"
		args = append(args, pool)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+" ORDER BY m.name"), args...)
	if err != nil {
		return nil, fmt.Errorf("listing masters: %w", err)
	}
	defer rows.Close()
	out := []Master{}
	for rows.Next() {
		m, err := scanMaster(rows)
		if err != nil {
			return nil, fmt.Errorf("listing masters: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// GetMaster returns one master.
func (s *Store) GetMaster(ctx context.Context, name string) (Master, error) {
	return s.getMaster(ctx, s.db, name)
}

func (s *Store) getMaster(ctx context.Context, q querier, name string) (Master, error) {
	m, err := scanMaster(q.QueryRowContext(ctx, s.q("SELECT "+masterColumns+" FROM masters m WHERE m.name = ?"), name))
	if isNoRows(err) {
		return m, notFound("master %q does not exist", name)
	}
	return m, wrap(err, "reading master %s", name)
}

func (s *Store) needPool(ctx context.Context, q querier, pool string) error {
	ok, err := exists(ctx, q, s.q("SELECT 1 FROM pools WHERE name = ?"), pool)
	if err != nil {
		return err
	}
	if !ok {
		return invalid("pool %q does not exist: create it first", pool)
	}
	return nil
}

// CreateMaster adds a master.
func (s *Store) CreateMaster(ctx context.Context, m Master) (Master, error) {
	if err := checkMaster(&m); err != nil {
		return Master{}, err
	}
	var out Master
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.needPool(ctx, tx, m.Pool); err != nil {
			return err
		}
		if ok, err := exists(ctx, tx, s.q("SELECT 1 FROM masters WHERE name = ?"), m.Name); err != nil || ok {
			if ok {
				return conflict("master %q already exists", m.Name)
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q("INSERT INTO masters (name, host, pb_port, msgpack_port, pool, enabled) VALUES (?, ?, ?, ?, ?, ?)"),
			m.Name, m.Host, m.PBPort, m.MsgpackPort, m.Pool, m.Enabled); err != nil {
			return wrap(err, "creating master %s", m.Name)
		}
		var err error
		out, err = s.getMaster(ctx, tx, m.Name)
		return err
	})
	return out, err
}

// UpdateMaster changes the fields patch sets. ifVersion, when not 0, makes
// the change conditional on the master's version (ErrConflict otherwise).
func (s *Store) UpdateMaster(ctx context.Context, name string, p MasterPatch, ifVersion int64) (Master, error) {
	var out Master
	err := s.tx(ctx, func(tx *sql.Tx) error {
		m, err := s.getMaster(ctx, tx, name)
		if err != nil {
			return err
		}
		if ifVersion != 0 && m.Version != ifVersion {
			return conflict("master %s changed since version %d (now %d): reload it", name, ifVersion, m.Version)
		}
		set := []string{}
		var args []any
		add := func(col string, v any) { set = append(set, col+" = ?"); args = append(args, v) }
		if p.Host != nil {
			m.Host = *p.Host
			add("host", m.Host)
		}
		if p.PBPort != nil {
			m.PBPort = *p.PBPort
			add("pb_port", m.PBPort)
		}
		if p.MsgpackPort != nil {
			m.MsgpackPort = *p.MsgpackPort
			add("msgpack_port", m.MsgpackPort)
		}
		if p.Pool != nil {
			m.Pool = *p.Pool
			if err := s.needPool(ctx, tx, m.Pool); err != nil {
				return err
			}
			add("pool", m.Pool)
		}
		if p.Enabled != nil {
			m.Enabled = *p.Enabled
			add("enabled", m.Enabled)
		}
		if err := checkMaster(&m); err != nil {
			return err
		}
		if len(set) > 0 {
			args = append(args, name)
			if _, err := tx.ExecContext(ctx, s.q("UPDATE masters SET "+strings.Join(set, ", ")+", version = version + 1 WHERE name = ?"), args...); err != nil {
				return wrap(err, "updating master %s", name)
			}
		}
		out, err = s.getMaster(ctx, tx, name)
		return err
	})
	return out, err
}

const workerColumns = `name, password, pool, enabled, locked_master, current_master, notes, last_fetch_unix, last_fetch_addr, version`

func scanWorker(sc interface{ Scan(...any) error }, withPassword bool) (Worker, error) {
	var w Worker
	var locked, current sql.NullString
	var fetched sql.NullInt64
	err := sc.Scan(&w.Name, &w.Password, &w.Pool, &w.Enabled, &locked, &current, &w.Notes, &fetched, &w.LastFetchAddr, &w.Version)
	w.LockedMaster, w.CurrentMaster = locked.String, current.String
	if fetched.Valid {
		t := time.Unix(fetched.Int64, 0).UTC()
		w.LastFetch = &t
	}
	if !withPassword {
		w.Password = ""
	}
	return w, err
}

// ListWorkers lists the workers, of one pool when pool is not empty; with
// their passwords only when asked.
func (s *Store) ListWorkers(ctx context.Context, pool string, withPasswords bool) ([]Worker, error) {
	query := "SELECT " + workerColumns + " FROM workers"
	var args []any
	if pool != "" {
		query += " WHERE pool = ?"
		args = append(args, pool)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+" ORDER BY name"), args...)
	if err != nil {
		return nil, fmt.Errorf("listing workers: %w", err)
	}
	defer rows.Close()
	out := []Worker{}
	for rows.Next() {
		w, err := scanWorker(rows, withPasswords)
		if err != nil {
			return nil, fmt.Errorf("listing workers: %w", err)
		}
		if withPasswords {
			if w.Password, err = s.reveal(w.Name, w.Password); err != nil {
				return nil, err
			}
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// GetWorker returns one worker, with its password only when asked.
func (s *Store) GetWorker(ctx context.Context, name string, withPassword bool) (Worker, error) {
	return s.getWorker(ctx, s.db, name, withPassword)
}

func (s *Store) getWorker(ctx context.Context, q querier, name string, withPassword bool) (Worker, error) {
	w, err := scanWorker(q.QueryRowContext(ctx, s.q("SELECT "+workerColumns+" FROM workers WHERE name = ?"), name), withPassword)
	if isNoRows(err) {
		return w, notFound("worker %q does not exist", name)
	}
	if err == nil && withPassword {
		w.Password, err = s.reveal(name, w.Password)
		return w, err
	}
	return w, wrap(err, "reading worker %s", name)
}

// CreateWorker adds a worker. Its master is chosen at its first fetch.
func (s *Store) CreateWorker(ctx context.Context, w Worker) (Worker, error) {
	if err := checkWorker(&w); err != nil {
		return Worker{}, err
	}
	var out Worker
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.needPool(ctx, tx, w.Pool); err != nil {
			return err
		}
		if ok, err := exists(ctx, tx, s.q("SELECT 1 FROM workers WHERE name = ?"), w.Name); err != nil || ok {
			if ok {
				return conflict("worker %q already exists", w.Name)
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q("INSERT INTO workers (name, password, pool, enabled, notes) VALUES (?, ?, ?, ?, ?)"),
			w.Name, s.seal(w.Name, w.Password), w.Pool, w.Enabled, w.Notes); err != nil {
			return wrap(err, "creating worker %s", w.Name)
		}
		var err error
		out, err = s.getWorker(ctx, tx, w.Name, false)
		return err
	})
	return out, err
}

// UpdateWorker changes the fields patch sets; ifVersion as for
// UpdateMaster. Changing the pool of a worker locked to a master of
// another pool is refused.
func (s *Store) UpdateWorker(ctx context.Context, name string, p WorkerPatch, ifVersion int64) (Worker, error) {
	return s.changeWorker(ctx, name, ifVersion, func(tx *sql.Tx, w *Worker, add func(string, any)) error {
		if p.Password != nil {
			if err := CheckPassword(*p.Password); err != nil {
				return err
			}
			add("password", s.seal(w.Name, *p.Password))
		}
		if p.Notes != nil {
			if err := checkNotes(*p.Notes); err != nil {
				return err
			}
			add("notes", *p.Notes)
		}
		if p.Enabled != nil {
			add("enabled", *p.Enabled)
		}
		if p.Pool != nil && *p.Pool != w.Pool {
			return s.toPool(ctx, tx, w, *p.Pool, add)
		}
		return nil
	})
}

// changeWorker runs one read-check-write of a worker in a transaction:
// change sees the current row and adds the columns to set.
func (s *Store) changeWorker(ctx context.Context, name string, ifVersion int64, change func(tx *sql.Tx, w *Worker, add func(string, any)) error) (Worker, error) {
	var out Worker
	err := s.tx(ctx, func(tx *sql.Tx) error {
		w, err := s.getWorker(ctx, tx, name, false)
		if err != nil {
			return err
		}
		if ifVersion != 0 && w.Version != ifVersion {
			return conflict("worker %s changed since version %d (now %d): reload it", name, ifVersion, w.Version)
		}
		var set []string
		var args []any
		add := func(col string, v any) { set = append(set, col+" = ?"); args = append(args, v) }
		if err := change(tx, &w, add); err != nil {
			return err
		}
		if len(set) > 0 {
			args = append(args, name)
			if _, err := tx.ExecContext(ctx, s.q("UPDATE workers SET "+strings.Join(set, ", ")+", version = version + 1 WHERE name = ?"), args...); err != nil {
				return wrap(err, "updating worker %s", name)
			}
		}
		out, err = s.getWorker(ctx, tx, name, false)
		return err
	})
	return out, err
}

func (s *Store) toPool(ctx context.Context, tx *sql.Tx, w *Worker, pool string, add func(string, any)) error {
	if err := CheckName("pool", pool); err != nil {
		return err
	}
	if err := s.needPool(ctx, tx, pool); err != nil {
		return err
	}
	if w.LockedMaster != "" {
		return conflict("worker %s is locked to master %s: unlock it before changing its pool", w.Name, w.LockedMaster)
	}
	add("pool", pool)
	// Its next fetch balances it over the new pool.
	add("current_master", nil)
	return nil
}

// MoveWorker gives the worker another master (which also puts it in that
// master's pool), or, with master empty, another pool, where its next
// fetch balances it. The master must be enabled; a locked worker must be
// unlocked or locked elsewhere instead.
func (s *Store) MoveWorker(ctx context.Context, name, master, pool string) (Worker, error) {
	if (master == "") == (pool == "") {
		return Worker{}, invalid("a move names a master or a pool, not both or neither")
	}
	return s.changeWorker(ctx, name, 0, func(tx *sql.Tx, w *Worker, add func(string, any)) error {
		if pool != "" {
			if pool == w.Pool {
				return nil
			}
			return s.toPool(ctx, tx, w, pool, add)
		}
		m, err := s.getMaster(ctx, tx, master)
		if err != nil {
			return invalidIfNotFound(err)
		}
		if w.LockedMaster != "" && w.LockedMaster != master {
			return conflict("worker %s is locked to master %s: unlock it or lock it to %s instead", name, w.LockedMaster, master)
		}
		if !m.Enabled {
			return conflict("master %s is disabled: enable it first", master)
		}
		add("pool", m.Pool)
		add("current_master", m.Name)
		return nil
	})
}

// invalidIfNotFound turns a missing referenced object into a bad request:
// the URL named something that exists, the body did not.
func invalidIfNotFound(err error) error {
	if errors.Is(err, ErrNotFound) {
		return invalid("%s", strings.TrimSuffix(err.Error(), ": "+ErrNotFound.Error()))
	}
	return err
}

// LockWorker locks the worker to master, or unlocks it when master is
// empty. Locking moves it there at once.
func (s *Store) LockWorker(ctx context.Context, name, master string) (Worker, error) {
	return s.changeWorker(ctx, name, 0, func(tx *sql.Tx, w *Worker, add func(string, any)) error {
		if master == "" {
			add("locked_master", nil)
			return nil
		}
		m, err := s.getMaster(ctx, tx, master)
		if err != nil {
			return invalidIfNotFound(err)
		}
		add("locked_master", m.Name)
		add("current_master", m.Name)
		add("pool", m.Pool)
		return nil
	})
}

// Assignment is the outcome of an allocation.
type Assignment struct {
	Worker   Worker // with its password
	Master   Master
	Decision alloc.Decision
}

// Allocate chooses the worker's master (see alloc.Choose), records it with
// the time and address of the fetch, and returns it. Disabled workers are
// refused (ErrConflict); a pool without an enabled master is
// ErrUnavailable.
func (s *Store) Allocate(ctx context.Context, name, addr string, now time.Time) (Assignment, error) {
	var a Assignment
	err := s.tx(ctx, func(tx *sql.Tx) error {
		w, err := s.getWorker(ctx, tx, name, true)
		if err != nil {
			return err
		}
		if !w.Enabled {
			return conflict("worker %s is disabled in the allocator", name)
		}
		masters, err := s.poolMasters(ctx, tx, w.Pool, name)
		if err != nil {
			return err
		}
		d, err := alloc.Choose(w.LockedMaster, w.CurrentMaster, masters)
		if errors.Is(err, alloc.ErrNoMaster) {
			return fmt.Errorf("pool %s has no enabled master for worker %s: %w", w.Pool, name, ErrUnavailable)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q("UPDATE workers SET current_master = ?, last_fetch_unix = ?, last_fetch_addr = ? WHERE name = ?"),
			d.Master, now.Unix(), addr, name); err != nil {
			return wrap(err, "recording the allocation of %s", name)
		}
		m, err := s.getMaster(ctx, tx, d.Master)
		if err != nil {
			return err
		}
		w.CurrentMaster = d.Master
		a = Assignment{Worker: w, Master: m, Decision: d}
		return nil
	})
	return a, err
}

// poolMasters lists the pool's masters as allocation candidates, counting
// the workers of each but not the one being allocated.
func (s *Store) poolMasters(ctx context.Context, q querier, pool, worker string) ([]alloc.Candidate, error) {
	rows, err := q.QueryContext(ctx, s.q(`SELECT m.name, m.enabled,
		(SELECT COUNT(*) FROM workers w WHERE w.current_master = m.name AND w.name <> ?)
		FROM masters m WHERE m.pool = ? ORDER BY m.name`), worker, pool)
	if err != nil {
		return nil, fmt.Errorf("listing the masters of pool %s: %w", pool, err)
	}
	defer rows.Close()
	var out []alloc.Candidate
	for rows.Next() {
		var c alloc.Candidate
		if err := rows.Scan(&c.Name, &c.Enabled, &c.Workers); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
