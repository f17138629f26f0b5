package banana

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
)

// Encode returns the encoding of v; see Append.
func Encode(v any, vocab bool) ([]byte, error) {
	return Append(nil, v, vocab)
}

// Append appends the encoding of the expression v to dst and returns the
// extended buffer. v may be any Go integer type, *big.Int, float64, []byte,
// string (written as its bytes) or []any of these. vocab selects the "pb"
// dialect: a byte string equal to a vocabulary word is then written as its
// VOCAB index.
//
// Like Twisted, Append refuses strings and lists longer than SizeLimit and
// integers whose magnitude exceeds 2^448-1; it also refuses lists nested
// deeper than MaxDepth. On error it returns dst with its original length.
func Append(dst []byte, v any, vocab bool) ([]byte, error) {
	out, err := appendValue(dst, v, &encoder{vocab: vocab}, 0)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// AppendBuffers encodes v as Append does, except that byte strings
// ([]byte) of at least min bytes (and longer than any vocabulary word)
// are not copied: it appends the encoding of v to bufs, as buffers to be
// written in order (net.Buffers writes them with one writev), in which
// those strings are v's own slices and the rest lies in the returned
// dst, after the bytes dst held already (which bufs leave out). The
// caller must not change those strings until bufs are written. An
// External value stands for a byte string whose contents the caller
// writes itself: bufs holds a nil buffer in their place. On error it
// returns dst and bufs with their original lengths.
func AppendBuffers(dst []byte, bufs [][]byte, v any, vocab bool, min int) ([]byte, [][]byte, error) {
	e := &encoder{vocab: vocab, min: max(min, 1), bufs: bufs, start: len(dst)}
	out, err := appendValue(dst, v, e, 0)
	if err != nil {
		return dst, bufs, err
	}
	if len(out) > e.start || len(e.bufs) == len(bufs) {
		e.bufs = append(e.bufs, out[e.start:])
	}
	return out, e.bufs, nil
}

// External is the length of a byte string that AppendBuffers leaves for
// its caller to write (from a file, say): it writes only the string's
// prefix. Append refuses it.
type External int

// encoder is the state of one encoding: the dialect, and for
// AppendBuffers the strings left uncopied.
type encoder struct {
	vocab bool
	min   int // 0: copy every string
	bufs  [][]byte
	start int // of the encoding not yet in bufs
}

// appendValue encodes v, which sits inside depth enclosing lists.
func appendValue(dst []byte, v any, e *encoder, depth int) ([]byte, error) {
	switch x := v.(type) {
	case int:
		return appendInt(dst, int64(x)), nil
	case int8:
		return appendInt(dst, int64(x)), nil
	case int16:
		return appendInt(dst, int64(x)), nil
	case int32:
		return appendInt(dst, int64(x)), nil
	case int64:
		return appendInt(dst, x), nil
	case uint:
		return appendUint(dst, uint64(x)), nil
	case uint8:
		return appendUint(dst, uint64(x)), nil
	case uint16:
		return appendUint(dst, uint64(x)), nil
	case uint32:
		return appendUint(dst, uint64(x)), nil
	case uint64:
		return appendUint(dst, x), nil
	case *big.Int:
		if x == nil {
			return dst, fmt.Errorf("%w: nil *big.Int", ErrUnsupported)
		}
		return appendBig(dst, x)
	case float64:
		return appendFloat(dst, x), nil
	case []byte:
		if e.min > 0 && len(x) >= e.min && len(x) > longestWord && len(x) <= SizeLimit {
			return e.appendUncopied(dst, x), nil
		}
		return appendString(dst, x, e.vocab)
	case string:
		return appendString(dst, x, e.vocab)
	case External:
		if e.min == 0 {
			return dst, fmt.Errorf("%w: External outside AppendBuffers", ErrUnsupported)
		}
		if x < 0 || x > SizeLimit {
			return dst, fmt.Errorf("%w: string of %d bytes", ErrTooLong, x)
		}
		dst = appendPrefix(dst, uint64(x))
		dst = append(dst, typeString)
		e.cut(dst, nil)
		return dst, nil
	case []any:
		return appendList(dst, x, e, depth+1)
	}
	return dst, fmt.Errorf("%w: %T", ErrUnsupported, v)
}

func appendList(dst []byte, l []any, e *encoder, depth int) ([]byte, error) {
	if depth > MaxDepth {
		return dst, fmt.Errorf("%w (%d)", ErrTooDeep, MaxDepth)
	}
	if len(l) > SizeLimit {
		return dst, fmt.Errorf("%w: list of %d elements", ErrTooLong, len(l))
	}
	dst = appendPrefix(dst, uint64(len(l)))
	dst = append(dst, typeList)
	for i, item := range l {
		var err error
		if dst, err = appendValue(dst, item, e, depth); err != nil {
			return dst, fmt.Errorf("list element %d: %w", i, err)
		}
	}
	return dst, nil
}

// appendUncopied writes the prefix of the long string s and leaves s
// itself to the buffers. No vocabulary word is that long.
func (e *encoder) appendUncopied(dst []byte, s []byte) []byte {
	dst = appendPrefix(dst, uint64(len(s)))
	dst = append(dst, typeString)
	e.cut(dst, s)
	return dst
}

// cut ends the buffer of the encoding so far and adds s after it.
func (e *encoder) cut(dst, s []byte) {
	// A later append may move dst; the slice taken here keeps the bytes
	// already written where they are.
	e.bufs = append(e.bufs, dst[e.start:len(dst):len(dst)], s)
	e.start = len(dst)
}

// appendString takes both string and []byte so that neither needs
// converting (and copying) to the other.
func appendString[T string | []byte](dst []byte, s T, vocab bool) ([]byte, error) {
	if len(s) > SizeLimit {
		return dst, fmt.Errorf("%w: string of %d bytes", ErrTooLong, len(s))
	}
	if vocab && len(s) <= longestWord {
		if i, ok := vocabIndex(string(s)); ok {
			dst = appendPrefix(dst, uint64(i))
			return append(dst, typeVocab), nil
		}
	}
	dst = appendPrefix(dst, uint64(len(s)))
	dst = append(dst, typeString)
	return append(dst, s...), nil
}

// appendInt chooses the form Twisted does: INT and NEG cover -2^31..2^31-1
// (note the asymmetry: -2^31 is NEG, +2^31 LONGINT), the LONG forms the rest.
func appendInt(dst []byte, v int64) []byte {
	switch {
	case v >= 0:
		return appendUint(dst, uint64(v))
	case v >= math.MinInt32:
		return append(appendPrefix(dst, uint64(-v)), typeNeg)
	default:
		// -v overflows for MinInt64; this form does not.
		return append(appendPrefix(dst, uint64(-(v+1))+1), typeLongNeg)
	}
}

func appendUint(dst []byte, v uint64) []byte {
	dst = appendPrefix(dst, v)
	if v <= math.MaxInt32 {
		return append(dst, typeInt)
	}
	return append(dst, typeLongInt)
}

func appendBig(dst []byte, x *big.Int) ([]byte, error) {
	if x.IsInt64() {
		return appendInt(dst, x.Int64()), nil
	}
	if x.IsUint64() {
		return appendUint(dst, x.Uint64()), nil
	}
	n := x.BitLen() // of the magnitude
	if n > maxIntBits {
		return dst, fmt.Errorf("%w: %d bits", ErrIntTooLarge, n)
	}
	// Base-128 digits, least significant first, straight from the bits
	// (of the magnitude: Bit reads negative numbers in two's complement).
	mag := new(big.Int).Abs(x)
	for i := 0; i < n; i += 7 {
		var digit byte
		for j := 0; j < 7; j++ {
			digit |= byte(mag.Bit(i+j)) << j
		}
		dst = append(dst, digit)
	}
	if x.Sign() < 0 {
		return append(dst, typeLongNeg), nil
	}
	return append(dst, typeLongInt), nil
}

// appendFloat writes no prefix: Twisted's encoder writes none for FLOAT.
func appendFloat(dst []byte, f float64) []byte {
	dst = append(dst, typeFloat)
	return binary.BigEndian.AppendUint64(dst, math.Float64bits(f))
}

// appendPrefix writes n in base 128, least significant digit first, with at
// least one digit.
func appendPrefix(dst []byte, n uint64) []byte {
	for {
		dst = append(dst, byte(n&0x7f))
		n >>= 7
		if n == 0 {
			return dst
		}
	}
}
