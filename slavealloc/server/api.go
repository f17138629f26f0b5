package server

import (
	"fmt"
	"net/http"

	"github.com/buildslave/buildslave/slavealloc/store"
)

func (s *Server) listPools(w http.ResponseWriter, r *http.Request) {
	pools, err := s.store.ListPools(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, pools)
}

func (s *Server) getPool(w http.ResponseWriter, r *http.Request) {
	p, err := s.store.GetPool(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) createPool(w http.ResponseWriter, r *http.Request) {
	var p store.Pool
	if !decode(w, r, &p) {
		return
	}
	if err := s.store.CreatePool(r.Context(), p.Name); err != nil {
		s.fail(w, err)
		return
	}
	s.log.Info("pool created", "pool", p.Name)
	got, err := s.store.GetPool(r.Context(), p.Name)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, got)
}

func (s *Server) listMasters(w http.ResponseWriter, r *http.Request) {
	ms, err := s.store.ListMasters(r.Context(), r.URL.Query().Get("pool"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ms)
}

func (s *Server) getMaster(w http.ResponseWriter, r *http.Request) {
	m, err := s.store.GetMaster(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

// newMaster is the body of a master's creation: enabled unless it says
// otherwise.
type newMaster struct {
	Name        string `json:"name"`
	Host        string `json:"host"`
	PBPort      int    `json:"pb_port"`
	MsgpackPort int    `json:"msgpack_port"`
	Pool        string `json:"pool"`
	Enabled     *bool  `json:"enabled"`
}

func (s *Server) createMaster(w http.ResponseWriter, r *http.Request) {
	var b newMaster
	if !decode(w, r, &b) {
		return
	}
	m := store.Master{Name: b.Name, Host: b.Host, PBPort: b.PBPort, MsgpackPort: b.MsgpackPort, Pool: b.Pool, Enabled: b.Enabled == nil || *b.Enabled}
	got, err := s.store.CreateMaster(r.Context(), m)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.log.Info("master created", "master", got.Name, "pool", got.Pool, "enabled", got.Enabled)
	writeJSON(w, http.StatusCreated, got)
}

func (s *Server) updateMaster(w http.ResponseWriter, r *http.Request) {
	var p store.MasterPatch
	if !decode(w, r, &p) {
		return
	}
	s.patchMaster(w, r, p)
}

func (s *Server) patchMaster(w http.ResponseWriter, r *http.Request, p store.MasterPatch) {
	v, ok := ifMatch(w, r)
	if !ok {
		return
	}
	got, err := s.store.UpdateMaster(r.Context(), r.PathValue("name"), p, v)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.log.Info("master changed", "master", got.Name, "pool", got.Pool, "enabled", got.Enabled)
	writeJSON(w, http.StatusOK, got)
}

func (s *Server) masterAction(w http.ResponseWriter, r *http.Request) {
	switch a := r.PathValue("action"); a {
	case "enable", "disable":
		on := a == "enable"
		s.patchMaster(w, r, store.MasterPatch{Enabled: &on})
	default:
		writeError(w, http.StatusNotFound, fmt.Sprintf("masters have no action %q (enable, disable)", a))
	}
}

// withPasswords says whether a worker read includes passwords: only when
// asked for (?passwords=1) with an admin token.
func (s *Server) withPasswords(w http.ResponseWriter, r *http.Request) (want, ok bool) {
	if r.URL.Query().Get("passwords") == "" {
		return false, true
	}
	sc, valid := s.scope(r)
	if !valid {
		unauthorized(w)
		return false, false
	}
	if !sc.Admin {
		writeError(w, http.StatusForbidden, "passwords need an admin token")
		return false, false
	}
	return true, true
}

func (s *Server) listWorkers(w http.ResponseWriter, r *http.Request) {
	pw, ok := s.withPasswords(w, r)
	if !ok {
		return
	}
	ws, err := s.store.ListWorkers(r.Context(), r.URL.Query().Get("pool"), pw)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ws)
}

func (s *Server) getWorker(w http.ResponseWriter, r *http.Request) {
	pw, ok := s.withPasswords(w, r)
	if !ok {
		return
	}
	wk, err := s.store.GetWorker(r.Context(), r.PathValue("name"), pw)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, wk)
}

type newWorker struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	Pool     string `json:"pool"`
	Enabled  *bool  `json:"enabled"`
	Notes    string `json:"notes"`
}

func (s *Server) createWorker(w http.ResponseWriter, r *http.Request) {
	var b newWorker
	if !decode(w, r, &b) {
		return
	}
	got, err := s.store.CreateWorker(r.Context(), store.Worker{
		Name: b.Name, Password: b.Password, Pool: b.Pool, Enabled: b.Enabled == nil || *b.Enabled, Notes: b.Notes,
	})
	if err != nil {
		s.fail(w, err)
		return
	}
	s.log.Info("worker created", "worker", got.Name, "pool", got.Pool)
	writeJSON(w, http.StatusCreated, got)
}

func (s *Server) updateWorker(w http.ResponseWriter, r *http.Request) {
	var p store.WorkerPatch
	if !decode(w, r, &p) {
		return
	}
	v, ok := ifMatch(w, r)
	if !ok {
		return
	}
	got, err := s.store.UpdateWorker(r.Context(), r.PathValue("name"), p, v)
	s.answerWorker(w, err, got, "worker changed")
}

func (s *Server) answerWorker(w http.ResponseWriter, err error, got store.Worker, what string) {
	if err != nil {
		s.fail(w, err)
		return
	}
	s.log.Info(what, "worker", got.Name, "pool", got.Pool, "master", got.CurrentMaster,
		"locked", got.LockedMaster, "enabled", got.Enabled)
	writeJSON(w, http.StatusOK, got)
}

// target is the body of move and lock.
type target struct {
	Master string `json:"master"`
	Pool   string `json:"pool"`
}

func (s *Server) workerAction(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	ctx := r.Context()
	switch a := r.PathValue("action"); a {
	case "move":
		var t target
		if !decode(w, r, &t) {
			return
		}
		got, err := s.store.MoveWorker(ctx, name, t.Master, t.Pool)
		s.answerWorker(w, err, got, "worker moved")
	case "lock":
		var t target
		if !decode(w, r, &t) {
			return
		}
		if t.Master == "" || t.Pool != "" {
			writeError(w, http.StatusBadRequest, `lock takes {"master": NAME}; unlock with POST .../unlock`)
			return
		}
		got, err := s.store.LockWorker(ctx, name, t.Master)
		s.answerWorker(w, err, got, "worker locked")
	case "unlock":
		got, err := s.store.LockWorker(ctx, name, "")
		s.answerWorker(w, err, got, "worker unlocked")
	case "enable", "disable":
		on := a == "enable"
		got, err := s.store.UpdateWorker(ctx, name, store.WorkerPatch{Enabled: &on}, 0)
		s.answerWorker(w, err, got, "worker "+a+"d")
	default:
		writeError(w, http.StatusNotFound, fmt.Sprintf("workers have no action %q (move, lock, unlock, enable, disable)", a))
	}
}
