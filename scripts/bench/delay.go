package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// delayProxy forwards TCP connections from its loopback port to target and
// holds every chunk of data for the current one-way delay in each
// direction before passing it on, in the order it came: a link with a
// round trip of twice the delay and no bandwidth limit of its own. The
// delay may change at any time; data already held keeps its due time.
type delayProxy struct {
	ln     net.Listener
	target string
	delay  atomic.Int64 // nanoseconds

	// What passed, for the table: bytes each way and the update calls
	// among the worker's messages (counted over PB only: a msgpack
	// worker's WebSocket frames are masked, so the proxy cannot read them).
	up, down, updates atomic.Int64
	countCalls        bool

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// proxyChunk is the most one read takes off a socket; proxyQueue is how
// many chunks may wait for their due time per direction (64 MiB at most,
// far above what a 50 ms round trip needs at loopback speeds).
const (
	proxyChunk = 64 << 10
	proxyQueue = 1024
)

// updateCall is how banana writes the method name of an update call: the
// string "update" (PB's vocabulary does not hold it).
var updateCall = []byte("\x06\x82update")

// countUpdates adds the update calls that start in data to n, given the
// tail of the data before it, and returns the new tail.
func countUpdates(n *atomic.Int64, tail, data []byte) []byte {
	joined := append(tail, data...)
	n.Add(int64(bytes.Count(joined, updateCall)))
	keep := min(len(joined), len(updateCall)-1)
	return append(tail[:0], joined[len(joined)-keep:]...)
}

// chunkPool recycles the chunks' buffers: the proxy's own garbage would
// otherwise cost the machine the workers share.
var chunkPool = sync.Pool{New: func() any { return new([proxyChunk]byte) }}

// startDelayProxy starts a proxy to target; countCalls counts PB's update
// calls among what the worker sends.
func startDelayProxy(target string, countCalls bool) (*delayProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &delayProxy{ln: ln, target: target, countCalls: countCalls, conns: make(map[net.Conn]struct{})}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the address workers dial instead of the master's.
func (p *delayProxy) Addr() string { return p.ln.Addr().String() }

// SetDelay sets the one-way delay of data arriving from now on.
func (p *delayProxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

// Close stops accepting and cuts every forwarded connection.
func (p *delayProxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *delayProxy) track(add bool, cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		if add {
			p.conns[c] = struct{}{}
		} else {
			delete(p.conns, c)
		}
	}
}

func (p *delayProxy) serve() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.track(true, client, server)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			var both sync.WaitGroup
			both.Add(2)
			go func() { defer both.Done(); p.forward(server, client, true) }()
			go func() { defer both.Done(); p.forward(client, server, false) }()
			both.Wait()
			client.Close()
			server.Close()
			p.track(false, client, server)
		}()
	}
}

// forward copies src to dst, each chunk delayed. A reader goroutine
// stamps chunks as they arrive, so that the delay does not add up when
// data keeps coming; the writer waits for each chunk's due time.
func (p *delayProxy) forward(dst, src net.Conn, fromWorker bool) {
	type chunk struct {
		due  time.Time
		data []byte
	}
	queue := make(chan chunk, proxyQueue)
	go func() {
		defer close(queue)
		var tail []byte // the end of the previous chunk, for a call name cut in two
		for {
			buf := chunkPool.Get().(*[proxyChunk]byte)[:]
			n, err := src.Read(buf)
			if fromWorker {
				p.up.Add(int64(n))
				if p.countCalls {
					tail = countUpdates(&p.updates, tail, buf[:n])
				}
			} else {
				p.down.Add(int64(n))
			}
			if n > 0 {
				queue <- chunk{time.Now().Add(time.Duration(p.delay.Load())), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	failed := false
	for c := range queue {
		if failed {
			continue
		}
		if d := time.Until(c.due); d > 0 {
			time.Sleep(d)
		}
		if _, err := dst.Write(c.data); err != nil {
			failed = true
			src.Close() // the reader stops; the queue drains
		}
		chunkPool.Put((*[proxyChunk]byte)(c.data[:proxyChunk]))
	}
	// Pass the end of the stream on, as a half-close: the other
	// direction may still carry data.
	if tc, ok := dst.(*net.TCPConn); ok && !failed {
		if err := tc.CloseWrite(); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.EOF) {
			dst.Close()
		}
	} else {
		dst.Close()
	}
}
