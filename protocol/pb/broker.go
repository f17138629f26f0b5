package pb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/buildslave/buildslave/protocol/banana"
	"github.com/buildslave/buildslave/protocol/jelly"
)

// ProtocolVersion is the PB protocol version both sides announce.
const ProtocolVersion = 6

// Object is a local object the peer may call: Twisted's pb.Referenceable.
// Implementations must be pointer types (they are kept as map keys so that
// sending one object twice reuses its luid, as Twisted does).
type Object interface {
	// RemoteCall serves the peer's call of method. ctx ends when the
	// connection does. The result is jellied (it may contain Objects);
	// an error goes back as a failure (see NoSuchMethod and Failer).
	RemoteCall(ctx context.Context, method string, args []any, kwargs *jelly.Dict) (any, error)
}

// Broker is one Perspective Broker connection.
type Broker struct {
	conn net.Conn
	log  *slog.Logger
	dec  *banana.Decoder

	writeMu sync.Mutex
	wbuf    []byte
	// vectored says whether conn writes net.Buffers with one writev (a
	// TCP or Unix socket; TLS would make a record of each); bufs is the
	// reused slice of them.
	vectored bool
	bufs     [][]byte
	// fileMu guards fileBuf, the block StartFile reads a file into when
	// the connection cannot take it from the file (TLS).
	fileMu  sync.Mutex
	fileBuf []byte

	mu       sync.Mutex
	nextReq  int64
	pending  map[int64]chan result
	nextLUID int64
	exported map[int64]*export
	byObject map[Object]int64
	err      error // why the connection ended; set once

	queue *callQueue

	// lastRead is when the last expression arrived (UnixNano), so that a
	// caller can tell a slow peer from a silent one.
	lastRead atomic.Int64

	ctx    context.Context // ends when the connection does
	cancel context.CancelFunc
	done   chan struct{} // closed when the reader and dispatcher are gone
}

type export struct {
	obj  Object
	refs int
}

type result struct {
	value any
	err   error
}

// incoming is a call from the peer waiting for the dispatcher. Its target
// and arguments are resolved when the call is read, in wire order with the
// peer's decrefs, as Twisted does: a peer may call an object and drop its
// last reference to it in the next message.
type incoming struct {
	reqID          int64
	method         string
	answerRequired bool
	obj            Object
	args           []any
	kwargs         *jelly.Dict
	err            error // why the call cannot be served
}

// Open negotiates the banana dialect and the PB version on a fresh
// connection to a PB server and starts serving it. The broker owns conn
// from then on; Close, or the peer, ends it.
func Open(ctx context.Context, conn net.Conn, logger *slog.Logger) (*Broker, error) {
	if logger == nil {
		logger = slog.Default()
	}
	b := &Broker{
		conn:     conn,
		log:      logger,
		dec:      banana.NewDecoder(conn),
		pending:  make(map[int64]chan result),
		exported: make(map[int64]*export),
		byObject: make(map[Object]int64),
		queue:    newCallQueue(),
		done:     make(chan struct{}),
	}
	switch conn.(type) {
	case *net.TCPConn, *net.UnixConn:
		b.vectored = true
	}
	if err := b.negotiate(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	b.lastRead.Store(time.Now().UnixNano())
	b.ctx, b.cancel = context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); b.readLoop() }()
	go func() { defer wg.Done(); b.dispatchLoop() }()
	go func() { wg.Wait(); close(b.done) }()
	return b, nil
}

// negotiate reads the server's dialect offer, picks "pb" and announces our
// version. The server's own version arrives later through the read loop.
func (b *Broker) negotiate(ctx context.Context) error {
	if deadline, ok := ctx.Deadline(); ok {
		b.conn.SetDeadline(deadline)
		defer b.conn.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { b.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	offer, err := b.dec.Decode()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("pb: waiting for the dialect offer: %w", ctx.Err())
		}
		return fmt.Errorf("pb: reading the dialect offer: %w", err)
	}
	dialects, ok := offer.([]any)
	if !ok {
		return protocolErrorf("dialect offer is %s, not a list", jelly.TypeName(offer))
	}
	found := false
	for _, d := range dialects {
		if s, ok := d.([]byte); ok && string(s) == "pb" {
			found = true
			break
		}
	}
	if !found {
		return protocolErrorf("the server offers no dialect we speak: %q", dialects)
	}
	if err := b.writeExpr([]byte("pb"), false); err != nil {
		return fmt.Errorf("pb: choosing the dialect: %w", err)
	}
	b.dec.SetVocabulary(true)
	if err := b.writeExpr([]any{[]byte("version"), int64(ProtocolVersion)}, true); err != nil {
		return fmt.Errorf("pb: sending the protocol version: %w", err)
	}
	return nil
}

// LastReceived is when the peer last sent a complete expression (or when
// the broker was opened, before that).
func (b *Broker) LastReceived() time.Time { return time.Unix(0, b.lastRead.Load()) }

// Done is closed once the connection has ended and no handler is running.
func (b *Broker) Done() <-chan struct{} { return b.done }

// Err says why the connection ended; nil while it is up.
func (b *Broker) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// Close ends the connection. Waiting calls fail with ErrConnectionLost.
func (b *Broker) Close() error {
	b.shutdown(ErrConnectionLost)
	return nil
}

// ReuseBytes hands back a string received from the peer once the caller
// is done with it, for a later one to reuse its memory (see
// banana.Decoder.Reuse). The caller must not touch p afterwards.
func (b *Broker) ReuseBytes(p []byte) { b.dec.Reuse(p) }

// Conn is the underlying connection, for socket options and addresses.
func (b *Broker) Conn() net.Conn { return b.conn }

func (b *Broker) shutdown(why error) {
	b.mu.Lock()
	if b.err != nil {
		b.mu.Unlock()
		return
	}
	b.err = why
	pending := b.pending
	b.pending = make(map[int64]chan result)
	b.mu.Unlock()

	b.cancel()
	b.conn.Close()
	b.queue.close()
	for _, ch := range pending {
		ch <- result{err: fmt.Errorf("%w: %w", ErrConnectionLost, why)}
	}
}

// uncopiedString is the size from which a byte string of ours (a
// transfer's block) goes to the socket straight from the caller's memory,
// beside the rest of its message in one writev, instead of being copied
// into the encoding buffer first.
const uncopiedString = 16 << 10

func (b *Broker) writeExpr(expr any, vocab bool) error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	var buf []byte
	var bufs [][]byte
	var err error
	if b.vectored {
		buf, bufs, err = banana.AppendBuffers(b.wbuf[:0], b.bufs[:0], expr, vocab, uncopiedString)
	} else {
		buf, err = banana.Append(b.wbuf[:0], expr, vocab)
	}
	if err != nil {
		return fmt.Errorf("pb: encoding: %w", err)
	}
	b.wbuf = buf
	if cap(b.wbuf) > 1<<20 {
		// Keep the next small message from pinning one huge buffer.
		b.wbuf = nil
	}
	if len(bufs) > 1 {
		b.bufs = bufs
		v := net.Buffers(bufs) // WriteTo consumes its slice; b.bufs stays
		_, err = v.WriteTo(b.conn)
		clear(bufs) // the blocks are the caller's again
	} else {
		_, err = b.conn.Write(buf)
	}
	if err != nil {
		b.shutdown(err)
		return fmt.Errorf("pb: writing: %w", err)
	}
	return nil
}

// send writes one PB message (already made of banana values).
func (b *Broker) send(msg []any) error { return b.writeExpr(msg, true) }

func (b *Broker) readLoop() {
	for {
		expr, err := b.dec.Decode()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				b.shutdown(ErrConnectionLost)
			} else {
				b.shutdown(err)
			}
			return
		}
		b.lastRead.Store(time.Now().UnixNano())
		if err := b.handle(expr); err != nil {
			b.log.Error("dropping the connection", "err", err)
			b.shutdown(err)
			return
		}
	}
}

// handle routes one received top-level expression.
func (b *Broker) handle(expr any) error {
	msg, ok := expr.([]any)
	if !ok || len(msg) == 0 {
		return protocolErrorf("message is not a non-empty list: %s", jelly.TypeName(expr))
	}
	name, ok := msg[0].([]byte)
	if !ok {
		return protocolErrorf("message name is %s", jelly.TypeName(msg[0]))
	}
	switch string(name) {
	case "version":
		if len(msg) != 2 || !isInt(msg[1], ProtocolVersion) {
			return protocolErrorf("peer speaks PB version %v, we speak %d", msg[1:], ProtocolVersion)
		}
	case "message":
		return b.handleMessage(msg)
	case "answer", "error":
		return b.handleResult(string(name), msg)
	case "decref":
		if len(msg) != 2 {
			return protocolErrorf("decref with %d elements", len(msg))
		}
		luid, ok := msg[1].(int64)
		if !ok {
			return protocolErrorf("decref of %s", jelly.TypeName(msg[1]))
		}
		b.decref(luid)
	case "cachemessage":
		// Buildbot never uses Cacheables; refuse politely if asked.
		if len(msg) == 7 {
			if id, ok := msg[1].(int64); ok && isInt(msg[4], 1) {
				return b.sendError(id, NewFailure(TypePBError, "cacheables are not supported", TypePBError))
			}
		}
	case "decache", "uncache":
		// Unused by Buildbot; nothing of ours to forget.
	case "didNotUnderstand":
		b.log.Warn("the master did not understand a message of ours", "message", fmt.Sprint(msg[1:]))
	default:
		// Twisted would answer didNotUnderstand, which its own Python 3
		// side cannot encode; ignoring keeps the connection usable.
		b.log.Warn("ignoring an unknown PB message", "name", string(name))
	}
	return nil
}

func isInt(v any, want int64) bool {
	n, ok := v.(int64)
	return ok && n == want
}

func (b *Broker) handleMessage(msg []any) error {
	if len(msg) != 7 {
		return protocolErrorf("message with %d elements", len(msg))
	}
	reqID, ok := msg[1].(int64)
	if !ok {
		return protocolErrorf("message request id is %s", jelly.TypeName(msg[1]))
	}
	method, ok := msg[3].([]byte)
	if !ok {
		return protocolErrorf("message method name is %s", jelly.TypeName(msg[3]))
	}
	answerRequired, ok := msg[4].(int64)
	if !ok {
		return protocolErrorf("message answerRequired is %s", jelly.TypeName(msg[4]))
	}
	in := incoming{reqID: reqID, method: string(method), answerRequired: answerRequired != 0}
	in.obj, in.args, in.kwargs, in.err = b.resolveCall(in.method, msg[2], msg[5], msg[6])
	b.queue.push(in)
	return nil
}

// resolveCall looks up the target of a call and unjellies its arguments.
// It runs on the reader, before the next message is handled.
func (b *Broker) resolveCall(method string, objectID, args, kwargs any) (Object, []any, *jelly.Dict, error) {
	var obj Object
	if luid, ok := objectID.(int64); ok {
		b.mu.Lock()
		if e := b.exported[luid]; e != nil {
			obj = e.obj
		}
		b.mu.Unlock()
	}
	if obj == nil {
		return nil, nil, nil, NewFailure(TypePBError, "Invalid Object ID", TypePBError)
	}
	argsV, err := b.unjelly(args)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("reading the arguments of %s: %w", method, err)
	}
	tuple, ok := argsV.(jelly.Tuple)
	if !ok {
		DecrefAll(argsV)
		return nil, nil, nil, fmt.Errorf("arguments of %s are a %s, not a tuple", method, jelly.TypeName(argsV))
	}
	kwV, err := b.unjelly(kwargs)
	if err != nil {
		DecrefAll(argsV)
		return nil, nil, nil, fmt.Errorf("reading the keyword arguments of %s: %w", method, err)
	}
	kw, ok := kwV.(*jelly.Dict)
	if !ok {
		DecrefAll(argsV)
		DecrefAll(kwV)
		return nil, nil, nil, fmt.Errorf("keyword arguments of %s are a %s, not a dict", method, jelly.TypeName(kwV))
	}
	return obj, []any(tuple), kw, nil
}

func (b *Broker) handleResult(kind string, msg []any) error {
	if len(msg) != 3 {
		return protocolErrorf("%s with %d elements", kind, len(msg))
	}
	reqID, ok := msg[1].(int64)
	if !ok {
		return protocolErrorf("%s request id is %s", kind, jelly.TypeName(msg[1]))
	}
	b.mu.Lock()
	ch, ok := b.pending[reqID]
	delete(b.pending, reqID)
	b.mu.Unlock()
	if !ok {
		return protocolErrorf("%s for request %d, which we never sent", kind, reqID)
	}
	value, err := b.unjelly(msg[2])
	if err != nil {
		// Twisted drops the connection when an answer cannot be read.
		ch <- result{err: err}
		return fmt.Errorf("pb: reading the %s to request %d: %w", kind, reqID, err)
	}
	if kind == "answer" {
		ch <- result{value: value}
		return nil
	}
	switch f := value.(type) {
	case *jelly.Failure:
		ch <- result{err: f}
	default:
		ch <- result{err: NewFailure(TypePBError, fmt.Sprint(value))}
	}
	return nil
}

// unjelly decodes a received value, turning references into our types.
func (b *Broker) unjelly(v any) (any, error) {
	d := jelly.Decoder{
		Remote: func(luid int64) (any, error) { return &RemoteReference{b: b, luid: luid}, nil },
		Local: func(luid int64) (any, error) {
			b.mu.Lock()
			defer b.mu.Unlock()
			e, ok := b.exported[luid]
			if !ok {
				return nil, fmt.Errorf("reference to our object %d, which is not exported", luid)
			}
			return e.obj, nil
		},
	}
	return d.Unjelly(v)
}

func (b *Broker) dispatchLoop() {
	for {
		in, ok := b.queue.pop()
		if !ok {
			return
		}
		b.serve(in)
	}
}

func (b *Broker) serve(in incoming) {
	value, err := b.invoke(in)
	if !in.answerRequired {
		if err != nil {
			b.log.Debug("a call that wants no answer failed", "method", in.method, "err", err)
		}
		return
	}
	if err == nil {
		var wire any
		if wire, err = b.jellyOut(value); err == nil {
			if sendErr := b.send([]any{[]byte("answer"), in.reqID, wire}); sendErr != nil {
				b.log.Debug("answer not sent", "method", in.method, "err", sendErr)
			}
			return
		}
		err = fmt.Errorf("encoding the result of %s: %w", in.method, err)
	}
	if sendErr := b.sendError(in.reqID, asFailure(err)); sendErr != nil {
		b.log.Debug("error answer not sent", "method", in.method, "err", sendErr)
	}
}

func (b *Broker) invoke(in incoming) (value any, err error) {
	if in.err != nil {
		return nil, in.err
	}
	defer func() {
		// A handler bug must cost one call, not the worker.
		if r := recover(); r != nil {
			b.log.Error("handler panicked", "method", in.method, "panic", r)
			err = NewFailure(TypeRuntimeError, fmt.Sprintf("internal error in %s: %v", in.method, r))
		}
	}()
	return in.obj.RemoteCall(b.ctx, in.method, in.args, in.kwargs)
}

func (b *Broker) sendError(reqID int64, f *jelly.Failure) error {
	wire, err := jelly.Jelly(f)
	if err != nil {
		return err
	}
	return b.send([]any{[]byte("error"), reqID, wire})
}

// jellyOut jellies a value we send, exporting the Objects and turning
// references back into their wire forms.
func (b *Broker) jellyOut(v any) (any, error) {
	prepared, err := b.prepare(v, 0)
	if err != nil {
		return nil, err
	}
	return jelly.Jelly(prepared)
}

// prepare replaces Objects by jelly.Remote and RemoteReferences by
// jelly.Local, walking the containers jelly knows.
func (b *Broker) prepare(v any, depth int) (any, error) {
	if depth > 64 {
		return nil, errors.New("value nested too deeply")
	}
	switch x := v.(type) {
	case *RemoteReference:
		if x.b != b {
			return nil, errors.New("a remote reference from another connection")
		}
		return jelly.Local{LUID: x.luid}, nil
	case Object:
		return jelly.Remote{LUID: b.exportObject(x)}, nil
	case jelly.Tuple:
		return b.prepareSlice(x, depth, func(s []any) any { return jelly.Tuple(s) })
	case jelly.List:
		return b.prepareSlice(x, depth, func(s []any) any { return jelly.List(s) })
	case []any:
		return b.prepareSlice(x, depth, func(s []any) any { return jelly.List(s) })
	case *jelly.Dict:
		out := &jelly.Dict{Items: make([]jelly.Item, len(x.Items))}
		for i, it := range x.Items {
			k, err := b.prepare(it.Key, depth+1)
			if err != nil {
				return nil, err
			}
			val, err := b.prepare(it.Value, depth+1)
			if err != nil {
				return nil, err
			}
			out.Items[i] = jelly.Item{Key: k, Value: val}
		}
		return out, nil
	}
	return v, nil
}

func (b *Broker) prepareSlice(s []any, depth int, wrap func([]any) any) (any, error) {
	out := make([]any, len(s))
	for i, e := range s {
		p, err := b.prepare(e, depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return wrap(out), nil
}

// exportObject registers obj (again) and returns its luid. Each send counts
// one reference, released by one decref from the peer.
func (b *Broker) exportObject(obj Object) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if luid, ok := b.byObject[obj]; ok {
		b.exported[luid].refs++
		return luid
	}
	b.nextLUID++
	luid := b.nextLUID
	b.exported[luid] = &export{obj: obj, refs: 1}
	b.byObject[obj] = luid
	return luid
}

func (b *Broker) decref(luid int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.exported[luid]
	if !ok {
		return
	}
	e.refs--
	if e.refs <= 0 {
		delete(b.exported, luid)
		delete(b.byObject, e.obj)
	}
}

// Exported reports how many of our objects the peer currently holds; tests
// use it to see that references are released.
func (b *Broker) Exported() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.exported)
}

// start sends a call and returns the channel its result will arrive on.
func (b *Broker) start(objectID any, method string, args []any, kwargs *jelly.Dict) (chan result, error) {
	wireArgs, err := b.jellyOut(jelly.Tuple(args))
	if err != nil {
		return nil, fmt.Errorf("pb: encoding the arguments of %s: %w", method, err)
	}
	if kwargs == nil {
		kwargs = &jelly.Dict{}
	}
	wireKw, err := b.jellyOut(kwargs)
	if err != nil {
		return nil, fmt.Errorf("pb: encoding the keyword arguments of %s: %w", method, err)
	}
	ch, reqID, err := b.addPending()
	if err != nil {
		return nil, err
	}
	msg := []any{[]byte("message"), reqID, objectID, []byte(method), int64(1), wireArgs, wireKw}
	if err := b.send(msg); err != nil {
		b.dropPending(reqID)
		return nil, err
	}
	return ch, nil
}

// addPending registers a new call and returns its request id and the
// channel its result will arrive on.
func (b *Broker) addPending() (chan result, int64, error) {
	ch := make(chan result, 1)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrConnectionLost, b.err)
	}
	b.nextReq++
	b.pending[b.nextReq] = ch
	return ch, b.nextReq, nil
}

// dropPending forgets a call that could not be sent.
func (b *Broker) dropPending(reqID int64) {
	b.mu.Lock()
	delete(b.pending, reqID)
	b.mu.Unlock()
}

// Root calls a method of the server's root object.
func (b *Broker) Root(ctx context.Context, method string, args ...any) (any, error) {
	ch, err := b.start([]byte("root"), method, args, nil)
	if err != nil {
		return nil, err
	}
	return (&Pending{ch: ch}).Wait(ctx)
}
