package banana

import (
	"bytes"
	"errors"
	"io"
	"math/big"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

func decodeOne(t *testing.T, data []byte, vocab bool) (any, error) {
	t.Helper()
	d := NewDecoder(bytes.NewReader(data))
	d.SetVocabulary(vocab)
	return d.Decode()
}

func TestDecodeLenientForms(t *testing.T) {
	// Forms Twisted's encoder never writes but its decoder accepts.
	tests := []struct {
		name string
		hex  string
		want any
	}{
		{"empty prefix int", "81", int64(0)},
		{"empty prefix string", "82", []byte{}},
		{"empty prefix list", "80", []any{}},
		{"zero high digits", "05 00 00 00 00 00 00 00 00 00 00 00 81", int64(5)},
		{"small LONGINT", "05 85", int64(5)},
		{"large INT", "00 00 00 00 08 81", int64(1 << 31)},
		{"small LONGNEG", "05 86", int64(-5)},
		{"NEG zero", "00 83", int64(0)},
		{"float with prefix", "07 84 3f f8 00 00 00 00 00 00", 1.5},
		{"-2^63 as LONGNEG", "00 00 00 00 00 00 00 00 00 01 86", int64(-1 << 63)},
		{"2^63 as INT", "00 00 00 00 00 00 00 00 00 01 81", bigInt("0x8000000000000000")},
		{"64-digit prefix", strings.Repeat("7f ", 64) + "81",
			new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 448), big.NewInt(1))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeOne(t, unhex(tc.hex), false)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !equal(got, tc.want) {
				t.Fatalf("Decode = %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		data  []byte
		vocab bool
		err   error
	}{
		{"65-byte prefix", unhex(strings.Repeat("01 ", 65) + "81"), false, ErrPrefixTooLong},
		{"65-byte prefix without type byte", unhex(strings.Repeat("01 ", 65)), false, ErrPrefixTooLong},
		{"string over SizeLimit", append(appendPrefix(nil, SizeLimit+1), typeString), false, ErrTooLong},
		{"list over SizeLimit", append(appendPrefix(nil, SizeLimit+1), typeList), false, ErrTooLong},
		{"string of 2^448-1", unhex(strings.Repeat("7f ", 64) + "82"), false, ErrTooLong},
		{"unknown type 0x88", unhex("01 88"), false, ErrUnknownType},
		{"unknown type 0xff", unhex("ff"), false, ErrUnknownType},
		{"unknown type inside a list", unhex("02 80 01 81 90"), false, ErrUnknownType},
		{"VOCAB with vocabulary off", unhex("1a 87"), false, ErrVocabulary},
		{"VOCAB 0", unhex("00 87"), true, ErrVocabulary},
		{"VOCAB 32", unhex("20 87"), true, ErrVocabulary},
		{"VOCAB huge", unhex(strings.Repeat("7f ", 20) + "87"), true, ErrVocabulary},
		{"VOCAB empty prefix", unhex("87"), true, ErrVocabulary},
		{"truncated prefix", unhex("01"), false, io.ErrUnexpectedEOF},
		{"truncated string", unhex("05 82 61 62"), false, io.ErrUnexpectedEOF},
		{"truncated float", unhex("84 3f f8"), false, io.ErrUnexpectedEOF},
		{"truncated list", unhex("03 80 01 81 02 81"), false, io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeOne(t, tc.data, tc.vocab)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Decode = %#v, %v; want error %v", got, err, tc.err)
			}
		})
	}
}

func TestDecodeEOF(t *testing.T) {
	d := NewDecoder(bytes.NewReader(nil))
	// io.EOF itself, unwrapped, as callers of readers expect.
	if _, err := d.Decode(); err != io.EOF { //nolint:errorlint
		t.Fatalf("empty stream: got %v, want io.EOF", err)
	}

	// Every proper prefix of an expression ends inside it.
	full := unhex("07 80 1a 87 01 81 04 82 72 6f 6f 74 14 87 01 81 02 80 0b 87 02 82 77 31 01 80 05 87")
	for n := 1; n < len(full); n++ {
		_, err := decodeOne(t, full[:n], true)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("cut after %d bytes: got %v, want io.ErrUnexpectedEOF", n, err)
		}
	}
}

func TestDecodeStream(t *testing.T) {
	// Several expressions in one read, vocabulary switched in between, as
	// during dialect negotiation.
	data := unhex("02 82 70 62  02 80 13 87 06 81  00 80")
	d := NewDecoder(bytes.NewReader(data))
	v, err := d.Decode()
	if err != nil || !equal(v, []byte("pb")) {
		t.Fatalf("first: %#v, %v", v, err)
	}
	d.SetVocabulary(true)
	v, err = d.Decode()
	if err != nil || !equal(v, []any{[]byte("version"), int64(6)}) {
		t.Fatalf("second: %#v, %v", v, err)
	}
	v, err = d.Decode()
	if err != nil || !equal(v, []any{}) {
		t.Fatalf("third: %#v, %v", v, err)
	}
	if _, err := d.Decode(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last: %v, want io.EOF", err)
	}
}

func TestDecodeErrorIsSticky(t *testing.T) {
	d := NewDecoder(bytes.NewReader(unhex("01 88 01 81")))
	_, err1 := d.Decode()
	_, err2 := d.Decode()
	if err1 == nil || !errors.Is(err2, err1) {
		t.Fatalf("errors %v then %v, want the same error twice", err1, err2)
	}
}

func TestDecodeReadError(t *testing.T) {
	boom := errors.New("boom")
	for _, data := range []string{"", "02 80 01 81", "05 82 61 62", "84 3f"} {
		r := io.MultiReader(bytes.NewReader(unhex(data)), iotest.ErrReader(boom))
		if _, err := NewDecoder(r).Decode(); !errors.Is(err, boom) {
			t.Errorf("after %q: got %v, want the reader's error wrapped", data, err)
		}
	}
}

func TestDecodeDepth(t *testing.T) {
	nested := func(depth int) []byte {
		// depth lists, each holding the next; the innermost is empty.
		return bytes.Repeat([]byte{0x01, typeList}, depth-1)
	}
	ok := append(nested(MaxDepth), 0x00, typeList)
	if _, err := decodeOne(t, ok, false); err != nil {
		t.Fatalf("nesting of exactly MaxDepth: %v", err)
	}
	tooDeep := append(nested(MaxDepth+1), 0x00, typeList)
	if _, err := decodeOne(t, tooDeep, false); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("nesting of MaxDepth+1: got %v, want ErrTooDeep", err)
	}
	// A hostile peer that opens lists forever is stopped at MaxDepth, long
	// before the data ends.
	endless := bytes.Repeat([]byte{0x01, typeList}, 100*MaxDepth)
	if _, err := decodeOne(t, endless, false); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("endless nesting: got %v, want ErrTooDeep", err)
	}
}

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestDecodeClaimsCostNoMemory(t *testing.T) {
	const budget = 256 << 10
	claims := []struct {
		name string
		data []byte
		err  error
	}{
		{"string of 2^40 bytes", append(appendPrefix(nil, 1<<40), typeString), ErrTooLong},
		{"string of SizeLimit bytes, none sent", append(appendPrefix(nil, SizeLimit), typeString), io.ErrUnexpectedEOF},
		{"list of SizeLimit elements, none sent", append(appendPrefix(nil, SizeLimit), typeList), io.ErrUnexpectedEOF},
		{"nested lists of SizeLimit elements", bytes.Repeat(append(appendPrefix(nil, SizeLimit), typeList), MaxDepth), io.ErrUnexpectedEOF},
	}
	for _, tc := range claims {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			n := allocated(func() {
				_, err = NewDecoder(bytes.NewReader(tc.data)).Decode()
			})
			if !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
			if n > budget {
				t.Fatalf("allocated %d bytes for a claim, want at most %d", n, budget)
			}
		})
	}
}

func TestDecodeLargeString(t *testing.T) {
	// Larger than readChunk, delivered in small pieces.
	payload := bytes.Repeat([]byte("0123456789abcdef"), SizeLimit/16)
	data := append(appendPrefix(nil, uint64(len(payload))), typeString)
	data = append(data, payload...)
	d := NewDecoder(iotest.HalfReader(bytes.NewReader(data)))
	v, err := d.Decode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(v.([]byte), payload) {
		t.Fatal("payload mangled")
	}
}

// A long string handed back with Reuse lends its memory to the next one,
// which still reads its own bytes. (sync.Pool may drop an item, and does
// at random under the race detector: one reuse in several is the test.)
func TestDecodeReusesLongStrings(t *testing.T) {
	const size, count = 4 * readChunk, 8
	var data []byte
	for i := range count {
		data = append(data, appendPrefix(nil, size)...)
		data = append(data, typeString)
		data = append(data, bytes.Repeat([]byte{byte('a' + i)}, size)...)
	}
	d := NewDecoder(bytes.NewReader(data))
	var prev []byte
	reused := 0
	for i := range count {
		v, err := d.Decode()
		if err != nil {
			t.Fatal(err)
		}
		b := v.([]byte)
		if !bytes.Equal(b, bytes.Repeat([]byte{byte('a' + i)}, size)) {
			t.Fatalf("string %d mangled", i)
		}
		if prev != nil && &prev[0] == &b[0] {
			reused++
		}
		d.Reuse(b)
		prev = b
	}
	if reused == 0 {
		t.Error("no string reused the memory of the one handed back before it")
	}
}
