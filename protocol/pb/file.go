package pb

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/buildslave/buildslave/protocol/banana"
	"github.com/buildslave/buildslave/protocol/jelly"
)

// ErrFileShrank says that a file ended before the bytes its call had
// announced were sent: the call went out padded with zeros, to keep the
// connection's framing, and its peer got a damaged block.
var ErrFileShrank = errors.New("pb: the file shrank while it was being sent")

// StartFile starts a call of method whose one argument is a byte string:
// the next bytes of f, at most n, from f's offset, which it advances. Over
// a TCP connection the bytes go from the file to the socket inside the
// kernel (sendfile), without being read into memory. It returns the call
// and how many bytes it sends, or no call and 0 at the end of the file.
// If the file shrinks or fails while it is sent, StartFile returns the
// call with ErrFileShrank or the read error: the peer got a damaged block,
// and the caller must not treat what it sent as whole.
func (r *RemoteReference) StartFile(method string, f *os.File, n int) (*Pending, int, error) {
	ch, k, err := r.b.startFile(r.luid, method, f, n)
	if err != nil {
		err = fmt.Errorf("calling %s: %w", method, err)
	}
	if ch == nil {
		return nil, k, err
	}
	return &Pending{ch: ch}, k, err
}

func (b *Broker) startFile(objectID any, method string, f *os.File, n int) (chan result, int, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, 0, err
	}
	k := int(min(int64(n), fi.Size()-off))
	if k <= 0 {
		return nil, 0, nil
	}
	if !b.vectored {
		// TLS copies every byte anyway: read the block and send it as
		// any other call.
		b.fileMu.Lock()
		defer b.fileMu.Unlock()
		if cap(b.fileBuf) < k {
			b.fileBuf = make([]byte, k)
		}
		got, err := io.ReadFull(f, b.fileBuf[:k])
		if got == 0 {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return nil, 0, err
		}
		ch, err := b.start(objectID, method, []any{b.fileBuf[:got]}, nil)
		return ch, got, err
	}
	wireArgs, err := b.jellyOut(jelly.Tuple{[]byte(nil)})
	if err != nil {
		return nil, 0, err
	}
	args, ok := wireArgs.([]any)
	if !ok || len(args) != 2 {
		return nil, 0, fmt.Errorf("pb: a one-element tuple jellied as %T", wireArgs)
	}
	args[1] = banana.External(k)
	wireKw, err := b.jellyOut(&jelly.Dict{})
	if err != nil {
		return nil, 0, err
	}
	ch, reqID, err := b.addPending()
	if err != nil {
		return nil, 0, err
	}
	msg := []any{[]byte("message"), reqID, objectID, []byte(method), int64(1), args, wireKw}
	if err := b.sendFile(msg, f, int64(k)); err != nil {
		if errors.Is(err, errConnWrite) {
			b.dropPending(reqID)
			return nil, 0, err
		}
		return ch, k, err
	}
	return ch, k, nil
}

// errConnWrite marks the failures of sendFile after which the call did
// not go out.
var errConnWrite = errors.New("pb: writing")

// zeros pads a call whose file shrank.
var zeros [32 << 10]byte

// sendFile writes msg, which holds one banana.External(k), with the next
// k bytes of f in its place.
func (b *Broker) sendFile(msg []any, f *os.File, k int64) error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	buf, bufs, err := banana.AppendBuffers(b.wbuf[:0], b.bufs[:0], msg, true, uncopiedString)
	if err != nil {
		return fmt.Errorf("%w: encoding: %w", errConnWrite, err)
	}
	b.wbuf, b.bufs = buf, bufs
	defer clear(bufs)
	at := -1
	for i, p := range bufs {
		if p == nil {
			at = i
		}
	}
	if at < 0 {
		return fmt.Errorf("%w: no place for the file's bytes", errConnWrite)
	}
	fail := func(err error) error {
		b.shutdown(err)
		return fmt.Errorf("%w: %w", errConnWrite, err)
	}
	head := net.Buffers(bufs[:at])
	if _, err := head.WriteTo(b.conn); err != nil {
		return fail(err)
	}
	// From here on the call is on its way: a failure of the file's is
	// padded over so that the stream stays framed.
	sent, copyErr := io.Copy(b.conn, &io.LimitedReader{R: f, N: k})
	if sent < k {
		if copyErr == nil {
			copyErr = ErrFileShrank
		}
		if werr := b.writeZeros(k - sent); werr != nil {
			return fail(werr)
		}
	}
	tail := net.Buffers(bufs[at+1:])
	if _, err := tail.WriteTo(b.conn); err != nil {
		return fail(err)
	}
	return copyErr
}

func (b *Broker) writeZeros(n int64) error {
	for n > 0 {
		m := min(n, int64(len(zeros)))
		if _, err := b.conn.Write(zeros[:m]); err != nil {
			return err
		}
		n -= m
	}
	return nil
}
