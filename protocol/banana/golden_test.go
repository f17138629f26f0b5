package banana

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/buildslave/buildslave/protocol/internal/pbcapture"
)

// decodeAll decodes a whole captured direction the way a PB peer does: the
// first expression (dialect offer or selection) without vocabulary, the
// rest with it.
func decodeAll(t *testing.T, r io.Reader) []any {
	t.Helper()
	d := NewDecoder(r)
	var out []any
	for {
		v, err := d.Decode()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("expression %d: %v", len(out), err)
		}
		out = append(out, v)
		d.SetVocabulary(true)
	}
}

// TestCapturesRoundTrip decodes every captured expression and re-encodes
// it: the result must be the captured bytes, contiguously and completely.
func TestCapturesRoundTrip(t *testing.T) {
	total := 0
	for _, s := range loadCaptures(t) {
		t.Run(s.Name, func(t *testing.T) {
			exprs := decodeAll(t, bytes.NewReader(s.Data))
			off := 0
			for i, v := range exprs {
				enc, err := Encode(v, i > 0)
				if err != nil {
					t.Fatalf("expression %d: Encode: %v", i, err)
				}
				if !bytes.HasPrefix(s.Data[off:], enc) {
					end := min(off+len(enc), len(s.Data))
					t.Fatalf("expression %d at offset %d:\nencoded  % x\ncaptured % x", i, off, enc, s.Data[off:end])
				}
				off += len(enc)
			}
			if off != len(s.Data) {
				t.Fatalf("re-encoding covers %d of %d bytes", off, len(s.Data))
			}
			total += len(exprs)
		})
	}
	if total != pbcapture.Expressions {
		t.Fatalf("round-tripped %d expressions, want %d", total, pbcapture.Expressions)
	}
	t.Logf("%d captured expressions re-encoded byte for byte", total)
}

// TestCapturesOneByteAtATime feeds each stream one byte per read, the worst
// case of TCP chunking, and expects the same expressions.
func TestCapturesOneByteAtATime(t *testing.T) {
	for _, s := range loadCaptures(t) {
		t.Run(s.Name, func(t *testing.T) {
			whole := decodeAll(t, bytes.NewReader(s.Data))
			chunked := decodeAll(t, iotest.OneByteReader(bytes.NewReader(s.Data)))
			if len(whole) != len(chunked) {
				t.Fatalf("%d expressions, want %d", len(chunked), len(whole))
			}
			for i := range whole {
				if !equal(whole[i], chunked[i]) {
					t.Fatalf("expression %d differs when read byte by byte", i)
				}
			}
		})
	}
}
