package pytext

import (
	"strings"
	"unicode/utf8"
)

// utf8Decoder turns a byte stream that arrives in pieces into valid UTF-8,
// like Python's incremental UTF-8 decoder with errors='replace': a
// character split between two pieces is put back together, and each
// maximal invalid subsequence becomes one U+FFFD (so "\xe2\x82A" gives one
// replacement character, not two as utf8.DecodeRune would count it).
type utf8Decoder struct {
	pending [utf8.UTFMax - 1]byte // a valid but incomplete sequence
	n       int
}

func (d *utf8Decoder) Decode(s string) string {
	if d.n == 0 && utf8.ValidString(s) {
		return s
	}
	in := s
	if d.n > 0 {
		in = string(d.pending[:d.n]) + s
		d.n = 0
	}
	var b strings.Builder
	b.Grow(len(in))
	for i := 0; i < len(in); {
		c := in[i]
		if c < utf8.RuneSelf {
			b.WriteByte(c)
			i++
			continue
		}
		size, lo, hi := leadByte(c)
		if size == 0 {
			b.WriteRune(utf8.RuneError)
			i++
			continue
		}
		k := 1
		for k < size && i+k < len(in) {
			cb := in[i+k]
			if cb < lo || cb > hi {
				break
			}
			lo, hi = 0x80, 0xBF // only the second byte has a narrower range
			k++
		}
		switch {
		case k == size:
			b.WriteString(in[i : i+k])
		case i+k == len(in):
			// The piece ends inside a character: wait for the rest.
			d.n = copy(d.pending[:], in[i:])
		default:
			b.WriteRune(utf8.RuneError)
		}
		i += k
	}
	return b.String()
}

// flush ends the stream: an incomplete character left over is invalid.
func (d *utf8Decoder) Flush() string {
	if d.n == 0 {
		return ""
	}
	d.n = 0
	return string(utf8.RuneError)
}

// leadByte returns the length of the sequence c starts and the valid range
// of its second byte (which excludes overlong forms, surrogates and values
// above U+10FFFF), or size 0 if c cannot start a sequence.
func leadByte(c byte) (size int, lo, hi byte) {
	switch {
	case c >= 0xC2 && c <= 0xDF:
		return 2, 0x80, 0xBF
	case c == 0xE0:
		return 3, 0xA0, 0xBF
	case c == 0xED:
		return 3, 0x80, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		return 3, 0x80, 0xBF
	case c == 0xF0:
		return 4, 0x90, 0xBF
	case c >= 0xF1 && c <= 0xF3:
		return 4, 0x80, 0xBF
	case c == 0xF4:
		return 4, 0x80, 0x8F
	}
	return 0, 0, 0
}

// DecodeUTF8 converts text that may hold invalid UTF-8 into valid UTF-8
// the way Python's decode(errors='replace') does, for values shown in
// headers.
func DecodeUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var d utf8Decoder
	var b strings.Builder
	b.WriteString(d.Decode(s))
	b.WriteString(d.Flush())
	return b.String()
}

// NewUTF8Decoder returns an incremental decoder of UTF-8, whatever the
// configured encoding: for the worker's own text.
func NewUTF8Decoder() Decoder { return new(utf8Decoder) }
