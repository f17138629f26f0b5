package banana

import (
	"bytes"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoder. It must never panic, and
// every expression it accepts must survive encode → decode unchanged (the
// encoder may normalise the bytes, never the value).
func FuzzDecode(f *testing.F) {
	// Whole captured streams would be slow to mutate and minimise: seed
	// with each distinct captured expression instead.
	seen := make(map[string]bool)
	for _, s := range loadCaptures(f) {
		d := NewDecoder(bytes.NewReader(s.Data))
		for vocab := false; ; vocab = true {
			v, err := d.Decode()
			if err != nil {
				break
			}
			d.SetVocabulary(true)
			enc, err := Encode(v, vocab)
			if err != nil {
				f.Fatal(err)
			}
			if !seen[string(enc)] {
				seen[string(enc)] = true
				f.Add(enc)
			}
		}
	}
	for _, tc := range specExamples {
		f.Add(unhex(tc.hex))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Once as a PB peer reads (vocabulary from the second expression
		// on), once with the vocabulary on throughout.
		for _, vocabFirst := range []bool{false, true} {
			d := NewDecoder(bytes.NewReader(data))
			d.SetVocabulary(vocabFirst)
			vocab := vocabFirst
			for {
				v, err := d.Decode()
				if err != nil {
					break
				}
				checkRoundTrip(t, v, vocab)
				vocab = true
				d.SetVocabulary(true)
			}
		}
	})
}

func checkRoundTrip(t *testing.T, v any, vocab bool) {
	t.Helper()
	enc, err := Encode(v, vocab)
	if err != nil {
		t.Fatalf("a decoded value does not encode: %v", err)
	}
	d := NewDecoder(bytes.NewReader(enc))
	d.SetVocabulary(vocab)
	v2, err := d.Decode()
	if err != nil {
		t.Fatalf("decoding % x: %v", enc, err)
	}
	if !equal(v, v2) {
		t.Fatalf("value changed by encode → decode: %#v became %#v", v, v2)
	}
	enc2, err := Encode(v2, vocab)
	if err != nil || !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding is not stable: % x then % x (%v)", enc, enc2, err)
	}
}
