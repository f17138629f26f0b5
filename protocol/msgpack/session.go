package msgpack

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Defaults of Options.
const (
	DefaultMaxMessageSize = 64 << 20
	DefaultWindow         = 64
	// requestQueue is how many master requests may wait for the handler
	// before the reader stops reading.
	requestQueue = 256
	// closeWait bounds the polite part of Close: the Close frame and the
	// master's answer to it.
	closeWait = time.Second
)

// Options configure Open.
type Options struct {
	Name, Password string // sent as Authorization: Basic; a Name containing ':' is refused
	Host           string // authority for the URL and Host header; default conn.RemoteAddr()
	Path           string // default "/"; a missing leading '/' is added
	UserAgent      string // default "buildslave"
	MaxMessageSize int64  // largest message accepted from the master; default 64 MiB
	Window         int    // most worker requests awaiting a response; default 64
	Limits         Limits
	Logger         *slog.Logger // dropped messages are logged here; default discards
}

// Request is one request from the master.
type Request struct {
	Op     string
	Seq    int64
	Fields Map // every key but op and seq_number, in wire order
}

// Handler serves the master's requests; see Session.Serve for how it is
// called.
type Handler interface {
	// ServeMsgpack answers one request. The result is encoded as by Encode.
	// A non-nil error is answered with is_exception and its Error() text,
	// except ErrUnknownOp (or an error wrapping it), answered
	// "Command <op> does not exist.".
	ServeMsgpack(ctx context.Context, req *Request) (result any, err error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req *Request) (any, error)

// ServeMsgpack calls f.
func (f HandlerFunc) ServeMsgpack(ctx context.Context, req *Request) (any, error) {
	return f(ctx, req)
}

// Session is one logged-in WebSocket connection to a master.
type Session struct {
	ws   *websocket.Conn
	opts Options
	// ctx lives as long as the session: writes run under it, not under a
	// caller's ctx, because a write cut short would break the framing.
	ctx    context.Context
	cancel context.CancelFunc
	log    *slog.Logger
	window chan struct{}

	// writeMu makes numbering and writing one step, so that requests
	// reach the master in the order of their seq_numbers.
	writeMu sync.Mutex
	nextSeq int64

	mu      sync.Mutex
	pending map[int64]*Pending

	served  atomic.Bool
	endOnce sync.Once
	done    chan struct{}
	err     error // why the session ended; set before done is closed
}

// Open runs the WebSocket handshake over conn and logs in; see the package
// doc for the contract.
func Open(ctx context.Context, conn net.Conn, opts Options) (*Session, error) {
	if strings.Contains(opts.Name, ":") {
		conn.Close()
		return nil, fmt.Errorf("msgpack: worker name %q contains ':', which HTTP Basic authentication cannot carry", opts.Name)
	}
	if opts.Host == "" {
		opts.Host = conn.RemoteAddr().String()
	}
	if !strings.HasPrefix(opts.Path, "/") {
		opts.Path = "/" + opts.Path
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "buildslave"
	}
	if opts.MaxMessageSize <= 0 {
		opts.MaxMessageSize = DefaultMaxMessageSize
	}
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	opts.Limits = opts.Limits.withDefaults()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	// The HTTP client gets exactly this one connection: the agent has
	// dialled it (TCP, TLS or through a proxy), so the URL stays ws://.
	var used atomic.Bool
	transport := &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			if used.Swap(true) {
				return nil, errors.New("the connection was already used")
			}
			return conn, nil
		},
		DisableCompression: true,
		TLSNextProto:       map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	header := http.Header{}
	header.Set("User-Agent", opts.UserAgent)
	header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(opts.Name+":"+opts.Password)))
	header.Set("Pragma", "no-cache")
	header.Set("Cache-Control", "no-cache")
	// The session keeps its options; it has no use for the password.
	opts.Password = ""

	ws, resp, err := websocket.Dial(ctx, "ws://"+opts.Host+opts.Path, &websocket.DialOptions{
		HTTPClient:      client,
		HTTPHeader:      header,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		conn.Close()
		switch {
		case resp != nil && resp.StatusCode == http.StatusUnauthorized:
			return nil, &LoginRefusedError{Name: opts.Name}
		case resp != nil && resp.StatusCode != http.StatusSwitchingProtocols:
			return nil, &HandshakeError{Status: resp.StatusCode, Reason: resp.Status}
		case resp != nil:
			return nil, &HandshakeError{Status: resp.StatusCode, Reason: resp.Status, Err: err}
		case ctx.Err() != nil:
			return nil, &HandshakeError{Err: fmt.Errorf("no answer to the upgrade: %w", ctx.Err())}
		}
		return nil, &HandshakeError{Err: err}
	}
	ws.SetReadLimit(opts.MaxMessageSize)
	sctx, cancel := context.WithCancel(context.Background())
	return &Session{
		ws:      ws,
		ctx:     sctx,
		cancel:  cancel,
		opts:    opts,
		log:     log,
		window:  make(chan struct{}, opts.Window),
		pending: make(map[int64]*Pending),
		done:    make(chan struct{}),
	}, nil
}

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err says why the session ended: nil while it runs, ErrClosed after Close,
// else an error wrapping ErrConnectionLost.
func (s *Session) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// end ends the session once, with err as the reason every pending request
// and every later call fail with, and drops the connection.
func (s *Session) end(err error) {
	s.settle(err)
	s.ws.CloseNow()
}

// settle records the end and fails what is pending; it reports whether this
// call was the one that ended the session.
func (s *Session) settle(err error) (first bool) {
	s.endOnce.Do(func() {
		first = true
		s.mu.Lock()
		s.err = err
		pending := s.pending
		s.pending = nil
		s.mu.Unlock()
		close(s.done)
		s.cancel()
		for _, p := range pending {
			p.finish(nil, err)
		}
	})
	return first
}

// Close sends a Close frame (waiting at most a second for the master's
// answer), closes the connection and fails what is pending with ErrClosed.
func (s *Session) Close() error {
	if !s.settle(ErrClosed) {
		s.ws.CloseNow()
		return nil
	}
	polite := make(chan struct{})
	go func() {
		defer close(polite)
		s.ws.Close(websocket.StatusNormalClosure, "")
	}()
	select {
	case <-polite:
	case <-time.After(closeWait):
	}
	s.ws.CloseNow()
	return nil
}

// Serve reads the connection until it ends; see the package doc.
func (s *Session) Serve(ctx context.Context, h Handler) error {
	if !s.served.CompareAndSwap(false, true) {
		return errors.New("msgpack: Serve called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	queue := make(chan *Request, requestQueue)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for req := range queue {
			s.serveOne(ctx, h, req)
		}
	}()
	err := s.read(ctx, queue)
	close(queue)
	cancel()
	wg.Wait()
	return err
}

func (s *Session) read(ctx context.Context, queue chan<- *Request) error {
	for {
		typ, data, err := s.ws.Read(ctx)
		if err != nil {
			return s.readFailed(ctx, err)
		}
		if typ != websocket.MessageBinary {
			s.log.Warn("msgpack: text message from the master ignored", "bytes", len(data))
			continue
		}
		m, err := Decode(data, s.opts.Limits)
		if err != nil {
			s.log.Warn("msgpack: undecodable message from the master dropped", "err", err, "bytes", len(data))
			continue
		}
		op, okOp := m.String("op")
		seq, okSeq := m.Int("seq_number")
		if !okOp || !okSeq {
			s.log.Warn("msgpack: message from the master without op or seq_number dropped", "message", describe(m))
			continue
		}
		if op == "response" {
			s.resolve(seq, m)
			continue
		}
		fields := make(Map, 0, len(m))
		for _, p := range m {
			if p.Key != "op" && p.Key != "seq_number" {
				fields = append(fields, p)
			}
		}
		select {
		case queue <- &Request{Op: op, Seq: seq, Fields: fields}:
		case <-ctx.Done():
			return s.readFailed(ctx, ctx.Err())
		case <-s.done:
			return s.readFailed(ctx, net.ErrClosed)
		}
	}
}

// readFailed ends the session after a failed read and says why for Serve.
func (s *Session) readFailed(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		s.end(ErrClosed)
		if errors.Is(s.err, ErrClosed) {
			return ctx.Err()
		}
		return s.err
	}
	select {
	case <-s.done:
		if errors.Is(s.err, ErrClosed) {
			return nil
		}
		return s.err
	default:
	}
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		err = &PeerClosedError{Code: int(ce.Code), Reason: ce.Reason}
	}
	s.end(&lostError{cause: err})
	return s.err
}

func (s *Session) serveOne(ctx context.Context, h Handler, req *Request) {
	result, err := safeServe(ctx, h, req)
	resp := Map{{"op", "response"}, {"seq_number", req.Seq}, {"result", result}}
	if err != nil {
		text := err.Error()
		if errors.Is(err, ErrUnknownOp) {
			text = fmt.Sprintf("Command %s does not exist.", req.Op)
		}
		resp = Map{{"op", "response"}, {"seq_number", req.Seq}, {"result", text}, {"is_exception", true}}
	}
	b, err := Encode(resp)
	if err != nil {
		// The master is waiting for an answer; tell it what went wrong.
		s.log.Warn("msgpack: result not encodable", "op", req.Op, "err", err)
		b, _ = Encode(Map{{"op", "response"}, {"seq_number", req.Seq}, {"result", err.Error()}, {"is_exception", true}})
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.ws.Write(ctx, websocket.MessageBinary, b); err != nil {
		if ctx.Err() != nil {
			// Serve is ending: either the connection is already lost
			// (and the session ended so) or Serve's ctx was cancelled.
			s.end(ErrClosed)
			return
		}
		s.end(&lostError{cause: fmt.Errorf("writing the response to %s: %w", req.Op, err)})
	}
}

// safeServe keeps a handler's panic inside this package: the master gets an
// exception answer and the connection stays up.
func safeServe(ctx context.Context, h Handler, req *Request) (result any, err error) {
	defer func() {
		if r := recover(); r != nil {
			result, err = nil, fmt.Errorf("internal error in the worker serving %s: %v", req.Op, r)
		}
	}()
	return h.ServeMsgpack(ctx, req)
}

// Pending is a request sent to the master whose response may still come.
type Pending struct {
	Op  string
	Seq int64

	done   chan struct{}
	result any
	err    error
	once   sync.Once
	s      *Session
}

func (p *Pending) finish(result any, err error) {
	p.once.Do(func() {
		p.result, p.err = result, err
		close(p.done)
		<-p.s.window
	})
}

// Done is closed when the response has arrived or the session has ended.
func (p *Pending) Done() <-chan struct{} { return p.done }

// Wait returns the result: the master's value, a *RemoteError for
// is_exception, or the session's end (ErrConnectionLost, ErrClosed). If ctx
// ends first, Wait returns ctx's error and the request stays pending.
func (p *Pending) Wait(ctx context.Context) (any, error) {
	select {
	case <-p.done:
		return p.result, p.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Send numbers and writes one request; see the package doc. fields follow
// op in the message, and seq_number comes last, as the reference worker
// writes it ({op, args, command_id, seq_number}).
func (s *Session) Send(ctx context.Context, op string, fields Map) (*Pending, error) {
	if op == "" || op == "response" {
		return nil, fmt.Errorf("msgpack: %q is not a request op", op)
	}
	select {
	case s.window <- struct{}{}:
	case <-s.done:
		return nil, s.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	p := &Pending{Op: op, Seq: s.nextSeq, done: make(chan struct{}), s: s}
	msg := make(Map, 0, len(fields)+2)
	msg = append(msg, Pair{"op", op})
	msg = append(msg, fields...)
	msg = append(msg, Pair{"seq_number", p.Seq})
	b, err := Encode(msg)
	if err != nil {
		<-s.window
		return nil, err
	}
	s.mu.Lock()
	if s.pending == nil {
		s.mu.Unlock()
		<-s.window
		return nil, s.Err()
	}
	s.pending[p.Seq] = p
	s.mu.Unlock()
	s.nextSeq++
	if err := s.ws.Write(s.ctx, websocket.MessageBinary, b); err != nil {
		s.end(&lostError{cause: fmt.Errorf("writing %s: %w", op, err)})
		return nil, s.Err()
	}
	return p, nil
}

// Call sends a request and waits for its response.
func (s *Session) Call(ctx context.Context, op string, fields Map) (any, error) {
	p, err := s.Send(ctx, op, fields)
	if err != nil {
		return nil, err
	}
	return p.Wait(ctx)
}

func (s *Session) resolve(seq int64, m Map) {
	s.mu.Lock()
	p := s.pending[seq]
	delete(s.pending, seq)
	s.mu.Unlock()
	if p == nil {
		s.log.Warn("msgpack: response from the master to no pending request dropped", "seq_number", seq)
		return
	}
	result, _ := m.Get("result")
	if m.Has("is_exception") {
		text, ok := result.(string)
		if !ok {
			text = fmt.Sprint(ToGo(result))
		}
		p.finish(nil, &RemoteError{Op: p.Op, Seq: seq, Text: text})
		return
	}
	p.finish(result, nil)
}

// Ping sends a WebSocket ping and waits for the pong until ctx ends; a ping
// that fails ends the session. Serve must be running to read the pong.
func (s *Session) Ping(ctx context.Context) error {
	select {
	case <-s.done:
		return s.err
	default:
	}
	if err := s.ws.Ping(ctx); err != nil {
		s.end(&lostError{cause: fmt.Errorf("no pong from the master: %w", err)})
		return s.Err()
	}
	return nil
}

// describe shortens a message for a log line.
func describe(m Map) string {
	s := fmt.Sprint(ToGo(m))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
