// Package server is the allocator's HTTP interface: GET /gettac/{worker}
// (the tac generator the workers call at boot), the JSON REST API under
// /api/ and the web page at /.
//
// Reads that carry no password are open, as in the original allocator
// (GET /api/pools is the monitoring's health check). Every change, and
// every read that carries a password (a tac, a worker with ?passwords),
// needs a bearer token: an admin token for everything, or a worker's own
// token for its own tac.
package server

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/slavealloc/store"
	"github.com/buildslave/buildslave/slavealloc/token"
)

//go:embed web
var web embed.FS

// Server serves one store.
type Server struct {
	store  *store.Store
	tokens atomic.Pointer[token.Set]
	log    *slog.Logger
	now    func() time.Time
	// TrustForwardedFor takes the client's address from the last entry
	// of X-Forwarded-For, which a reverse proxy in front (nginx, as the
	// original allocator had) appends; without a proxy a client could
	// write anything there, hence off by default.
	TrustForwardedFor bool
}

// New returns a server of st that accepts tokens and logs to log.
func New(st *store.Store, tokens *token.Set, log *slog.Logger) *Server {
	s := &Server{store: st, log: log, now: time.Now}
	s.tokens.Store(tokens)
	return s
}

// SetTokens replaces the accepted tokens, for a rotation without a
// restart; requests already authorized are not affected.
func (s *Server) SetTokens(tokens *token.Set) {
	s.tokens.Store(tokens)
}

// maxBody bounds a request body: the API's objects are small.
const maxBody = 64 << 10

// Handler returns the server's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /gettac/{worker}", s.getTac)

	mux.HandleFunc("GET /api/pools", s.listPools)
	mux.HandleFunc("POST /api/pools", s.admin(s.createPool))
	mux.HandleFunc("GET /api/pools/{name}", s.getPool)

	mux.HandleFunc("GET /api/masters", s.listMasters)
	mux.HandleFunc("POST /api/masters", s.admin(s.createMaster))
	mux.HandleFunc("GET /api/masters/{name}", s.getMaster)
	mux.HandleFunc("PATCH /api/masters/{name}", s.admin(s.updateMaster))
	mux.HandleFunc("POST /api/masters/{name}/{action}", s.admin(s.masterAction))

	mux.HandleFunc("GET /api/workers", s.listWorkers)
	mux.HandleFunc("POST /api/workers", s.admin(s.createWorker))
	mux.HandleFunc("GET /api/workers/{name}", s.getWorker)
	mux.HandleFunc("PATCH /api/workers/{name}", s.admin(s.updateWorker))
	mux.HandleFunc("POST /api/workers/{name}/{action}", s.admin(s.workerAction))

	mux.HandleFunc("GET /{$}", s.page)
	return s.logged(jsonMuxErrors(mux))
}

// jsonMuxErrors turns the mux's own plain-text answers (404 for an
// unknown path, 405 for a known path with the wrong method) into JSON
// errors like every other.
func jsonMuxErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(&muxErrorWriter{ResponseWriter: w, r: r}, r)
	})
}

// muxErrorWriter replaces a plain-text error body with a JSON one.
type muxErrorWriter struct {
	http.ResponseWriter
	r        *http.Request
	replaced bool
}

func (w *muxErrorWriter) WriteHeader(code int) {
	if code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.replaced = true
	w.Header().Del("X-Content-Type-Options")
	msg := fmt.Sprintf("nothing at %s", w.r.URL.Path)
	if code == http.StatusMethodNotAllowed {
		msg = fmt.Sprintf("%s is not allowed on %s (allowed: %s)", w.r.Method, w.r.URL.Path, w.Header().Get("Allow"))
	}
	writeError(w.ResponseWriter, code, msg)
}

func (w *muxErrorWriter) Write(b []byte) (int, error) {
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// statusWriter remembers the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// logged logs each request: method, path, status, client and time. Never
// headers or bodies, which carry tokens and passwords.
func (s *Server) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"client", s.clientAddr(r), "duration", time.Since(start).Round(time.Microsecond))
	})
}

func (s *Server) clientAddr(r *http.Request) string {
	if s.TrustForwardedFor {
		if h := r.Header.Values("X-Forwarded-For"); len(h) > 0 {
			hops := strings.Split(h[len(h)-1], ",")
			if last := strings.TrimSpace(hops[len(hops)-1]); net.ParseIP(last) != nil {
				return last
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// scope returns the scope of the request's bearer token, if any.
func (s *Server) scope(r *http.Request) (token.Scope, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return token.Scope{}, false
	}
	return s.tokens.Load().Check(strings.TrimSpace(tok))
}

// admin wraps a handler that needs an admin token.
func (s *Server) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sc, ok := s.scope(r)
		if !ok {
			unauthorized(w)
			return
		}
		if !sc.Admin {
			writeError(w, http.StatusForbidden, "this token may only fetch the tac of worker "+sc.Worker)
			return
		}
		h(w, r)
	}
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="slavealloc"`)
	writeError(w, http.StatusUnauthorized, "this needs a valid token: send it as 'Authorization: Bearer TOKEN'")
}

type apiError struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// fail answers with the status that err's kind calls for. Unexpected
// errors are logged and answered without detail.
func (s *Server) fail(w http.ResponseWriter, err error) {
	msg := err.Error()
	for _, k := range []error{store.ErrNotFound, store.ErrConflict, store.ErrInvalid, store.ErrUnavailable} {
		msg = strings.TrimSuffix(msg, ": "+k.Error())
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, msg)
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, msg)
	case errors.Is(err, store.ErrInvalid):
		writeError(w, http.StatusBadRequest, msg)
	case errors.Is(err, store.ErrUnavailable):
		writeError(w, http.StatusServiceUnavailable, msg)
	case errors.Is(err, context.Canceled):
		writeError(w, http.StatusServiceUnavailable, "request cancelled")
	default:
		s.log.Error("request failed", "err", err)
		writeError(w, http.StatusInternalServerError, "internal error; see the server's log")
	}
}

// decode reads a JSON body into v, refusing unknown fields and trailing
// data, so that a typo in a field name is an error instead of a no-op.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "bad JSON body: "+err.Error())
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		writeError(w, http.StatusBadRequest, "bad JSON body: more than one JSON value")
		return false
	}
	return true
}

// ifMatch reads an optional If-Match version.
func ifMatch(w http.ResponseWriter, r *http.Request) (int64, bool) {
	h := strings.Trim(r.Header.Get("If-Match"), `" `)
	if h == "" {
		return 0, true
	}
	v, err := strconv.ParseInt(h, 10, 64)
	if err != nil || v < 1 {
		writeError(w, http.StatusBadRequest, "If-Match must be an object's version number")
		return 0, false
	}
	return v, true
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	data, err := web.ReadFile("web/index.html")
	if err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'")
	_, _ = w.Write(data)
}

// getTac allocates a master to the worker and answers with its tac, or
// with its buildslave.cfg when ?format=cfg. ?protocol=msgpack_experimental_v7
// gives the master's msgpack port instead of its PB port.
func (s *Server) getTac(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("worker")
	sc, ok := s.scope(r)
	if !ok {
		unauthorized(w)
		return
	}
	if !sc.Admin && sc.Worker != name {
		writeError(w, http.StatusForbidden, "this token may only fetch the tac of worker "+sc.Worker)
		return
	}
	format := r.URL.Query().Get("format")
	if format != "" && format != "tac" && format != "cfg" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("format %q is not tac or cfg", format))
		return
	}
	protocol := r.URL.Query().Get("protocol")
	switch protocol {
	case "", config.ProtocolPB:
		protocol = config.ProtocolPB
	case config.ProtocolMsgpack, "msgpack":
		protocol = config.ProtocolMsgpack
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("protocol %q is not %s or %s", protocol, config.ProtocolPB, config.ProtocolMsgpack))
		return
	}
	if err := store.CheckName("worker", name); err != nil {
		s.fail(w, err)
		return
	}
	a, err := s.store.Allocate(r.Context(), name, s.clientAddr(r), s.now())
	if err != nil {
		s.fail(w, err)
		return
	}
	c := config.Defaults()
	c.Basedir, c.Relocatable = ".", true
	c.MasterHost, c.MasterPort = a.Master.Host, a.Master.PBPort
	c.Name, c.Password, c.Protocol = a.Worker.Name, a.Worker.Password, protocol
	if protocol == config.ProtocolMsgpack {
		if a.Master.MsgpackPort == 0 {
			writeError(w, http.StatusConflict, fmt.Sprintf("master %s has no msgpack port", a.Master.Name))
			return
		}
		c.MasterPort = a.Master.MsgpackPort
	}
	if err := c.Validate(); err != nil {
		s.fail(w, fmt.Errorf("worker %s: %w: %w", name, err, store.ErrInvalid))
		return
	}
	s.log.Info("allocated", "worker", name, "master", a.Master.Name, "address", c.MasterAddr(),
		"why", a.Decision.Reason, "client", s.clientAddr(r))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Slavealloc-Master", a.Master.Name)
	w.Header().Set("X-Slavealloc-Reason", a.Decision.Reason)
	if format == "cfg" {
		w.Header().Set("Content-Type", "application/toml; charset=utf-8")
		_, _ = io.WriteString(w, c.Text())
		return
	}
	w.Header().Set("Content-Type", "text/x-python; charset=utf-8")
	_, _ = io.WriteString(w, c.Tac())
}
