package pytext

import (
	"errors"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/transform"
)

// Decoder turns a byte stream that arrives in pieces into valid UTF-8,
// as Python's incremental decoders with errors='replace' do: a character
// split between pieces is put back together, undecodable bytes become
// U+FFFD.
type Decoder interface {
	Decode(s string) string
	// flush ends the stream; an incomplete character left over is invalid.
	Flush() string
}

// NewDecoder returns an incremental decoder for the codec.
func (c Codec) NewDecoder() Decoder {
	if c.IsUTF8() {
		return new(utf8Decoder)
	}
	return &codecDecoder{t: c.enc.NewDecoder()}
}

// codecDecoder decodes with an x/text decoder, whose decoders already
// replace invalid input by U+FFFD and ask for more input (ErrShortSrc)
// when a piece ends inside a character.
type codecDecoder struct {
	t       transform.Transformer
	pending []byte // the start of a character split between pieces
	dst     []byte
}

func (d *codecDecoder) Decode(s string) string {
	src := append(d.pending, s...)
	d.pending = nil
	return d.run(src, false)
}

func (d *codecDecoder) Flush() string {
	src := d.pending
	d.pending = nil
	out := d.run(src, true)
	d.t.Reset()
	return out
}

func (d *codecDecoder) run(src []byte, atEOF bool) string {
	if len(d.dst) == 0 {
		d.dst = make([]byte, 4096)
	}
	var out strings.Builder
	for {
		nDst, nSrc, err := d.t.Transform(d.dst, src, atEOF)
		out.Write(d.dst[:nDst])
		src = src[nSrc:]
		switch {
		case err == nil:
			return validUTF8(out.String())
		case errors.Is(err, transform.ErrShortDst):
			if nDst == 0 && nSrc == 0 {
				d.dst = make([]byte, 2*len(d.dst))
			}
		case errors.Is(err, transform.ErrShortSrc) && !atEOF:
			d.pending = append([]byte(nil), src...)
			return validUTF8(out.String())
		default:
			// A decoder that gives up on a byte: replace it and go on,
			// as errors='replace' would.
			if len(src) == 0 {
				return validUTF8(out.String())
			}
			out.WriteRune(utf8.RuneError)
			src = src[1:]
			d.t.Reset()
		}
	}
}

// validUTF8 is a safety net: the master must only ever get valid text.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, string(utf8.RuneError))
}
