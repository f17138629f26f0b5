package pb

import (
	"context"
	"fmt"
	"sync"

	"github.com/buildslave/buildslave/protocol/jelly"
)

// RemoteReference is an object of the peer's that we may call. Every one we
// receive holds one reference on the peer's side: call Decref when done with
// it, or the peer keeps the object (and a Buildbot master eventually refuses
// new commands once 1024 of them pile up).
type RemoteReference struct {
	b    *Broker
	luid int64
	once sync.Once
}

// LUID is the peer's identifier of the object.
func (r *RemoteReference) LUID() int64 { return r.luid }

// Broker is the connection the reference belongs to.
func (r *RemoteReference) Broker() *Broker { return r.b }

// Call calls method with positional arguments and waits for its result.
func (r *RemoteReference) Call(ctx context.Context, method string, args ...any) (any, error) {
	return r.CallKw(ctx, method, args, nil)
}

// CallKw calls method with positional and keyword arguments and waits.
func (r *RemoteReference) CallKw(ctx context.Context, method string, args []any, kwargs *jelly.Dict) (any, error) {
	p, err := r.start(method, args, kwargs)
	if err != nil {
		return nil, err
	}
	return p.Wait(ctx)
}

// Start sends a call without waiting for its result; calls started one
// after another reach the peer in that order.
func (r *RemoteReference) Start(method string, args ...any) (*Pending, error) {
	return r.start(method, args, nil)
}

func (r *RemoteReference) start(method string, args []any, kwargs *jelly.Dict) (*Pending, error) {
	ch, err := r.b.start(r.luid, method, args, kwargs)
	if err != nil {
		return nil, fmt.Errorf("calling %s: %w", method, err)
	}
	return &Pending{ch: ch}, nil
}

// Decref tells the peer we dropped this reference. Only the first call
// counts; nothing is sent once the connection is gone.
func (r *RemoteReference) Decref() {
	r.once.Do(func() {
		if r.b.Err() != nil {
			return
		}
		if err := r.b.send([]any{[]byte("decref"), r.luid}); err != nil {
			r.b.log.Debug("decref not sent", "luid", r.luid, "err", err)
		}
	})
}

// DecrefAll releases every RemoteReference found in v (a value as received
// by a handler); handlers use it for references they will not keep.
func DecrefAll(v any) {
	switch x := v.(type) {
	case *RemoteReference:
		x.Decref()
	case jelly.Tuple:
		for _, e := range x {
			DecrefAll(e)
		}
	case jelly.List:
		for _, e := range x {
			DecrefAll(e)
		}
	case []any:
		for _, e := range x {
			DecrefAll(e)
		}
	case *jelly.Dict:
		for _, it := range x.Items {
			DecrefAll(it.Key)
			DecrefAll(it.Value)
		}
	}
}

// Pending is a call whose result has not been read yet.
type Pending struct {
	ch  chan result
	res *result
}

// Wait returns the call's result. If ctx ends first the call is abandoned
// (its answer, when it comes, is dropped). Wait may be called again after a
// result was read and returns the same result.
func (p *Pending) Wait(ctx context.Context) (any, error) {
	if p.res != nil {
		return p.res.value, p.res.err
	}
	select {
	case r := <-p.ch:
		p.res = &r
		return r.value, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// callQueue is an unbounded FIFO of incoming calls. It must not block the
// reader: a handler waiting on the peer needs the reader to go on.
type callQueue struct {
	mu     sync.Mutex
	items  []incoming
	wake   chan struct{}
	closed bool
}

func newCallQueue() *callQueue {
	return &callQueue{wake: make(chan struct{}, 1)}
}

func (q *callQueue) push(in incoming) {
	q.mu.Lock()
	q.items = append(q.items, in)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *callQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// pop waits for the next call; false once the queue is closed.
func (q *callQueue) pop() (incoming, bool) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return incoming{}, false
		}
		if len(q.items) > 0 {
			in := q.items[0]
			q.items[0] = incoming{}
			q.items = q.items[1:]
			q.mu.Unlock()
			return in, true
		}
		q.mu.Unlock()
		<-q.wake
	}
}
