package jelly

import (
	"bytes"
	"testing"

	"github.com/buildslave/buildslave/protocol/banana"
)

// FuzzUnjelly decodes arbitrary bytes as a pb-dialect banana expression and
// unjellies it. That must never panic, and whatever Unjelly accepts must
// jelly again, encode, and then be stable: decoding and re-jellying the
// result reproduces it byte for byte.
func FuzzUnjelly(f *testing.F) {
	seen := make(map[string]bool)
	add := func(b []byte) {
		if !seen[string(b)] {
			seen[string(b)] = true
			f.Add(b)
		}
	}
	for _, msgs := range capturedMessages(f) {
		for _, m := range msgs {
			for _, p := range jellied(m.expr) {
				b, err := banana.Encode(m.expr[p], true)
				if err != nil {
					f.Fatal(err)
				}
				add(b)
			}
		}
	}
	for _, row := range mappingRows {
		add(unhex(row.hex))
	}
	add(unhex(sharedListHex))
	add(unhex(selfDictHex))

	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decodeUnjelly(data)
		if err != nil {
			return
		}
		b1, err := jellyEncode(v)
		if err != nil {
			t.Fatalf("accepted %#v but cannot send it back: %v", v, err)
		}
		v2, err := decodeUnjelly(b1)
		if err != nil {
			t.Fatalf("cannot read back % x: %v", b1, err)
		}
		b2, err := jellyEncode(v2)
		if err != nil {
			t.Fatalf("second Jelly: %v", err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("not stable:\n% x\n% x", b1, b2)
		}
	})
}

func decodeUnjelly(data []byte) (any, error) {
	d := banana.NewDecoder(bytes.NewReader(data))
	d.SetVocabulary(true)
	expr, err := d.Decode()
	if err != nil {
		return nil, err
	}
	return Unjelly(expr)
}

func jellyEncode(v any) ([]byte, error) {
	expr, err := Jelly(v)
	if err != nil {
		return nil, err
	}
	return banana.Encode(expr, true)
}
