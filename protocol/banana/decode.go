package banana

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"sync"
)

// A Decoder reads expressions from a byte stream. Data may arrive in chunks
// of any size; the decoder buffers what it needs.
//
// After an error the stream position is unknown, so every later call to
// Decode returns the same error.
type Decoder struct {
	r      *bufio.Reader
	vocab  bool
	err    error
	digits [PrefixLimit]byte // the prefix being read
	stack  []frame           // kept between calls to reuse its memory
	// spare holds long strings handed back by Reuse (as *[]byte).
	spare sync.Pool
}

// frame is a list whose elements are still arriving.
type frame struct {
	want  int
	items []any
}

// NewDecoder returns a Decoder reading from r, with the vocabulary off:
// dialect negotiation happens before the "pb" dialect is active.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: bufio.NewReader(r)}
}

// SetVocabulary turns the "pb" dialect's VOCAB elements on or off for the
// following expressions. With it off, a VOCAB element is a protocol error.
func (d *Decoder) SetVocabulary(on bool) {
	d.vocab = on
}

// Decode reads one top-level expression. See the package documentation for
// the Go types of its parts.
//
// It returns io.EOF if the stream ends cleanly before the expression's first
// byte, and an error wrapping io.ErrUnexpectedEOF if it ends inside one.
func (d *Decoder) Decode() (any, error) {
	if d.err != nil {
		return nil, d.err
	}
	v, err := d.decode()
	if err != nil {
		d.err = err
		d.stack = nil
	}
	return v, err
}

// decode assembles elements into lists with an explicit stack (PB.md §1.6)
// rather than recursion, so nesting costs heap the peer must pay for with
// bytes, bounded by MaxDepth.
func (d *Decoder) decode() (any, error) {
	stack := d.stack[:0]
	first := true
	for {
		v, n, isList, err := d.element(first)
		if err != nil {
			return nil, err
		}
		first = false
		if isList {
			if len(stack) >= MaxDepth {
				return nil, fmt.Errorf("%w (%d)", ErrTooDeep, MaxDepth)
			}
			if n > 0 {
				// The count is only a claim: grow as elements arrive.
				stack = append(stack, frame{want: n, items: make([]any, 0, min(n, 16))})
				continue
			}
			v = []any{}
		}
		for {
			if len(stack) == 0 {
				d.stack = stack
				return v, nil
			}
			top := &stack[len(stack)-1]
			top.items = append(top.items, v)
			if len(top.items) < top.want {
				break
			}
			v = top.items
			*top = frame{} // let the finished list go with its parent
			stack = stack[:len(stack)-1]
		}
	}
}

// element reads one element. For a LIST it returns its element count with
// isList set; otherwise the element's value. first tells whether this is
// the first element of a top-level expression, where EOF is clean.
func (d *Decoder) element(first bool) (v any, listLen int, isList bool, err error) {
	nd := 0
	var typ byte
	for {
		b, err := d.r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				if first && nd == 0 {
					return nil, 0, false, io.EOF
				}
				err = io.ErrUnexpectedEOF
			}
			return nil, 0, false, fmt.Errorf("banana: reading an element: %w", err)
		}
		if b >= 0x80 {
			typ = b
			break
		}
		if nd == PrefixLimit {
			return nil, 0, false, ErrPrefixTooLong
		}
		d.digits[nd] = b
		nd++
	}
	digits := d.digits[:nd]

	switch typ {
	case typeList:
		n, err := sizePrefix(digits, "list")
		return nil, n, err == nil, err
	case typeString:
		n, err := sizePrefix(digits, "string")
		if err != nil {
			return nil, 0, false, err
		}
		b, err := d.readBytes(n)
		if err != nil {
			return nil, 0, false, fmt.Errorf("banana: reading a string of %d bytes: %w", n, err)
		}
		return b, 0, false, nil
	case typeInt, typeLongInt:
		return prefixInt(digits, false), 0, false, nil
	case typeNeg, typeLongNeg:
		return prefixInt(digits, true), 0, false, nil
	case typeFloat:
		// Twisted ignores a FLOAT's prefix, so we do too.
		var buf [8]byte
		if _, err := io.ReadFull(d.r, buf[:]); err != nil {
			return nil, 0, false, fmt.Errorf("banana: reading a float: %w", eofIsUnexpected(err))
		}
		return math.Float64frombits(binary.BigEndian.Uint64(buf[:])), 0, false, nil
	case typeVocab:
		if !d.vocab {
			return nil, 0, false, fmt.Errorf("%w: VOCAB before the pb dialect is selected", ErrVocabulary)
		}
		i, ok := smallPrefix(digits)
		word, known := vocabWord(i)
		if !ok || !known {
			return nil, 0, false, fmt.Errorf("%w: unknown index %s", ErrVocabulary, prefixString(digits))
		}
		return []byte(word), 0, false, nil
	}
	return nil, 0, false, fmt.Errorf("%w %#02x", ErrUnknownType, typ)
}

// readChunk bounds how much readBytes allocates ahead of the data that
// actually arrived, so that a claimed length costs memory only once the
// peer sends it.
const readChunk = 64 << 10

// readBytes reads a string of n bytes. A long one is allocated at its full
// size once its first readChunk bytes are in: growing the buffer as the
// data came would allocate and copy each large string (a 256 KiB
// transfer block) about twice over.
func (d *Decoder) readBytes(n int) ([]byte, error) {
	if n > readChunk {
		if p, _ := d.spare.Get().(*[]byte); p != nil && cap(*p) >= n {
			b := (*p)[:n]
			if _, err := io.ReadFull(d.r, b); err != nil {
				return nil, eofIsUnexpected(err)
			}
			return b, nil
		}
	}
	first := make([]byte, min(n, readChunk))
	if _, err := io.ReadFull(d.r, first); err != nil {
		return nil, eofIsUnexpected(err)
	}
	if n == len(first) {
		return first, nil
	}
	b := make([]byte, n)
	copy(b, first)
	if _, err := io.ReadFull(d.r, b[len(first):]); err != nil {
		return nil, eofIsUnexpected(err)
	}
	return b, nil
}

// Reuse hands back a string that Decode returned, once the caller is done
// with it, for a later string to use its memory instead of a fresh
// allocation: a transfer receives thousands of blocks of one size. Only
// strings longer than readChunk are kept. The caller must not touch b
// afterwards. Reuse may be called from any goroutine.
func (d *Decoder) Reuse(b []byte) {
	if cap(b) > readChunk {
		d.spare.Put(&b)
	}
}

func eofIsUnexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// sizePrefix returns a STRING length or LIST count, refusing claims above
// SizeLimit before anything is allocated for them.
func sizePrefix(digits []byte, what string) (int, error) {
	n, ok := smallPrefix(digits)
	if !ok || n > SizeLimit {
		return 0, fmt.Errorf("%w: %s of %s claimed", ErrTooLong, what, prefixString(digits))
	}
	return int(n), nil
}

// smallPrefix returns the value of a prefix if it fits in 63 bits.
func smallPrefix(digits []byte) (uint64, bool) {
	var n uint64
	for i := len(digits) - 1; i >= 0; i-- {
		if n > math.MaxInt64>>7 {
			return 0, false
		}
		n = n<<7 | uint64(digits[i])
	}
	return n, true
}

// prefixInt returns the integer a prefix encodes, negated if neg: an int64
// when it fits, otherwise a *big.Int.
func prefixInt(digits []byte, neg bool) any {
	if n, ok := smallPrefix(digits); ok {
		if neg {
			return -int64(n)
		}
		return int64(n)
	}
	x := bigPrefix(digits)
	if neg {
		x.Neg(x)
	}
	if x.IsInt64() { // only -2^63 gets here
		return x.Int64()
	}
	return x
}

func bigPrefix(digits []byte) *big.Int {
	x := new(big.Int)
	for i := len(digits) - 1; i >= 0; i-- {
		x.Lsh(x, 7)
		x.Or(x, big.NewInt(int64(digits[i])))
	}
	return x
}

// prefixString renders a prefix's value for error messages.
func prefixString(digits []byte) string {
	return bigPrefix(digits).String()
}
