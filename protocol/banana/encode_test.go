package banana

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"
)

// unhex turns "7f 7f 81" into bytes; it panics on a typo in a test table.
func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func bigInt(s string) *big.Int {
	x, ok := new(big.Int).SetString(s, 0)
	if !ok {
		panic("bad big.Int literal " + s)
	}
	return x
}

// specExamples are the examples of PB.md §1.3, plus boundary values. value
// is what the decoder returns; the encoder must produce the bytes from it.
var specExamples = []struct {
	name  string
	value any
	vocab bool
	hex   string
}{
	{"0", int64(0), false, "00 81"},
	{"1", int64(1), false, "01 81"},
	{"127", int64(127), false, "7f 81"},
	{"128", int64(128), false, "00 01 81"},
	{"300", int64(300), false, "2c 02 81"},
	{"2^31-1", int64(2147483647), false, "7f 7f 7f 7f 07 81"},
	{"2^31", int64(2147483648), false, "00 00 00 00 08 85"},
	{"-1", int64(-1), false, "01 83"},
	{"-2^31", int64(-2147483648), false, "00 00 00 00 08 83"},
	{"-2^31-1", int64(-2147483649), false, "01 00 00 00 08 86"},
	{"1.5", 1.5, false, "84 3f f8 00 00 00 00 00 00"},
	{"3.25", 3.25, false, "84 40 0a 00 00 00 00 00 00"},
	{"empty string", []byte{}, false, "00 82"},
	{"abc", []byte("abc"), false, "03 82 61 62 63"},
	{"message vocab", []byte("message"), true, "1a 87"},
	{"message plain", []byte("message"), false, "07 82 6d 65 73 73 61 67 65"},
	{"empty list", []any{}, false, "00 80"},
	{"nested list", []any{int64(1), []any{int64(2)}}, false, "02 80 01 81 01 80 02 81"},
	{"dialect offer", []any{[]byte("pb"), []byte("none")}, false, "02 80 02 82 70 62 04 82 6e 6f 6e 65"},
	{"version", []any{[]byte("version"), int64(6)}, true, "02 80 13 87 06 81"},
	{"None vocab", []byte("None"), true, "01 87"},
	{"uncache vocab", []byte("uncache"), true, "1f 87"},
	{"unicode is no word", []byte("unicode"), true, "07 82 75 6e 69 63 6f 64 65"},
	{"max int64", int64(math.MaxInt64), false, "7f 7f 7f 7f 7f 7f 7f 7f 7f 85"},
	{"min int64", int64(math.MinInt64), false, "00 00 00 00 00 00 00 00 00 01 86"},
	{"2^63", bigInt("0x8000000000000000"), false, "00 00 00 00 00 00 00 00 00 01 85"},
	{"-2^63-1", bigInt("-0x8000000000000001"), false, "01 00 00 00 00 00 00 00 00 01 86"},
	{"2^448-1", new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 448), big.NewInt(1)), false,
		strings.Repeat("7f ", 64) + "85"},
	{"-(2^448-1)", new(big.Int).Sub(big.NewInt(1), new(big.Int).Lsh(big.NewInt(1), 448)), false,
		strings.Repeat("7f ", 64) + "86"},
	{"negative zero", math.Copysign(0, -1), false, "84 80 00 00 00 00 00 00 00"},
	{"infinity", math.Inf(1), false, "84 7f f0 00 00 00 00 00 00"},
	{"login call", []any{[]byte("message"), int64(1), []byte("root"), []byte("login"), int64(1),
		[]any{[]byte("tuple"), []byte("w1")}, []any{[]byte("dictionary")}}, true,
		"07 80 1a 87 01 81 04 82 72 6f 6f 74 14 87 01 81 02 80 0b 87 02 82 77 31 01 80 05 87"},
}

func TestEncodeSpecExamples(t *testing.T) {
	for _, tc := range specExamples {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Encode(tc.value, tc.vocab)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if want := unhex(tc.hex); !bytes.Equal(got, want) {
				t.Fatalf("Encode = % x, want % x", got, want)
			}
		})
	}
}

func TestDecodeSpecExamples(t *testing.T) {
	for _, tc := range specExamples {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(bytes.NewReader(unhex(tc.hex)))
			d.SetVocabulary(tc.vocab)
			got, err := d.Decode()
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !equal(got, tc.value) {
				t.Fatalf("Decode = %#v, want %#v", got, tc.value)
			}
		})
	}
}

// TestEncodeGoTypes checks that every accepted Go type is written as the
// canonical form of its value.
func TestEncodeGoTypes(t *testing.T) {
	tests := []struct {
		value any
		hex   string
	}{
		{int(-5), "05 83"},
		{int8(-128), "00 01 83"},
		{int16(300), "2c 02 81"},
		{int32(math.MinInt32), "00 00 00 00 08 83"},
		{uint(7), "07 81"},
		{uint8(255), "7f 01 81"},
		{uint16(65535), "7f 7f 03 81"},
		{uint32(math.MaxUint32), "7f 7f 7f 7f 0f 85"},
		{uint64(math.MaxUint64), "7f 7f 7f 7f 7f 7f 7f 7f 7f 01 85"},
		{big.NewInt(-3), "03 83"},
		{big.NewInt(1 << 40), "00 00 00 00 00 20 85"},
		{"abc", "03 82 61 62 63"},
		{[]byte(nil), "00 82"},
		{[]any(nil), "00 80"},
	}
	for _, tc := range tests {
		got, err := Encode(tc.value, false)
		if err != nil {
			t.Errorf("Encode(%T %v): %v", tc.value, tc.value, err)
			continue
		}
		if want := unhex(tc.hex); !bytes.Equal(got, want) {
			t.Errorf("Encode(%T %v) = % x, want % x", tc.value, tc.value, got, want)
		}
	}
}

func TestEncodeStringVocabulary(t *testing.T) {
	got, err := Encode([]any{"message", "messages", []byte("answer")}, true)
	if err != nil {
		t.Fatal(err)
	}
	want := unhex("03 80 1a 87 08 82 6d 65 73 73 61 67 65 73 1b 87")
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x, want % x", got, want)
	}
}

func TestEncodeLimits(t *testing.T) {
	tooBig := new(big.Int).Lsh(big.NewInt(1), 448)
	deep := []any{}
	for range MaxDepth {
		deep = []any{deep}
	}
	tests := []struct {
		name  string
		value any
		err   error
	}{
		{"string over SizeLimit", make([]byte, SizeLimit+1), ErrTooLong},
		{"text over SizeLimit", strings.Repeat("x", SizeLimit+1), ErrTooLong},
		{"list over SizeLimit", make([]any, SizeLimit+1), ErrTooLong},
		{"2^448", tooBig, ErrIntTooLarge},
		{"-2^448", new(big.Int).Neg(tooBig), ErrIntTooLarge},
		{"nesting over MaxDepth", deep, ErrTooDeep},
		{"nil big.Int", (*big.Int)(nil), ErrUnsupported},
		{"bool", true, ErrUnsupported},
		{"float32", float32(1), ErrUnsupported},
		{"nil", nil, ErrUnsupported},
		{"nested unsupported", []any{int64(1), []any{struct{}{}}}, ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := Append(dst, tc.value, true)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Append error = %v, want %v", err, tc.err)
			}
			if string(got) != "keep" {
				t.Fatalf("Append returned %q on error, want dst unchanged", got)
			}
		})
	}
}

func TestEncodeAtLimits(t *testing.T) {
	if _, err := Encode(make([]byte, SizeLimit), false); err != nil {
		t.Errorf("string of exactly SizeLimit bytes: %v", err)
	}
	if _, err := Encode(make([]any, SizeLimit), false); err == nil || !errors.Is(err, ErrUnsupported) {
		// nil elements are unsupported; only the length check matters here.
		t.Errorf("list of exactly SizeLimit elements: got %v, want only ErrUnsupported for its nil elements", err)
	}
	deep := []any{}
	for range MaxDepth - 1 {
		deep = []any{deep}
	}
	if _, err := Encode(deep, false); err != nil {
		t.Errorf("nesting of exactly MaxDepth: %v", err)
	}
}

func TestAppendAppends(t *testing.T) {
	got, err := Append([]byte{0xff}, int64(1), false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0xff, 0x01, 0x81}; !bytes.Equal(got, want) {
		t.Fatalf("got % x, want % x", got, want)
	}
}

// AppendBuffers writes what Append writes, with the long byte strings
// left where they were: the buffers alias them, and only the short
// strings, the prefixes and the rest are copied.
func TestAppendBuffersLeavesLongStringsUncopied(t *testing.T) {
	long := bytes.Repeat([]byte{'x'}, 200)
	short := []byte("tuple")
	v := []any{[]byte("message"), int64(7), short, long, []any{long, int64(-1)}, long}
	want, err := Encode(v, true)
	if err != nil {
		t.Fatal(err)
	}
	dst, bufs, err := AppendBuffers(make([]byte, 0, 4), nil, v, true, 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := bytes.Join(bufs, nil); !bytes.Equal(got, want) {
		t.Fatalf("buffers % x, want % x", got, want)
	}
	aliased := 0
	for _, b := range bufs {
		if len(b) > 0 && &b[0] == &long[0] {
			aliased++
		}
	}
	if aliased != 3 || len(bufs) != 6 {
		t.Errorf("%d buffers, %d of them the long string; want 6 and 3", len(bufs), aliased)
	}
	if len(dst) != len(want)-3*len(long) {
		t.Errorf("dst holds %d bytes, want %d: a long string was copied", len(dst), len(want)-3*len(long))
	}
	// Below the threshold everything is copied into one buffer, appended
	// to those given.
	_, bufs, err = AppendBuffers(nil, [][]byte{[]byte("kept")}, v, true, 1000)
	if err != nil || len(bufs) != 2 || string(bufs[0]) != "kept" || !bytes.Equal(bufs[1], want) {
		t.Errorf("threshold above every string: %d buffers, %v", len(bufs), err)
	}
	// Errors leave dst as it was.
	if dst, bufs, err := AppendBuffers([]byte{1}, nil, []any{long, struct{}{}}, true, 100); err == nil || len(dst) != 1 || bufs != nil {
		t.Errorf("unsupported value: %d bytes, %d buffers, %v", len(dst), len(bufs), err)
	}
}

// An External string is its prefix in the encoding and a nil buffer where
// its bytes go.
func TestAppendBuffersExternal(t *testing.T) {
	body := bytes.Repeat([]byte{'y'}, 300)
	want, err := Encode([]any{[]byte("tuple"), body, int64(2)}, true)
	if err != nil {
		t.Fatal(err)
	}
	_, bufs, err := AppendBuffers(nil, nil, []any{[]byte("tuple"), External(len(body)), int64(2)}, true, 1<<20)
	if err != nil || len(bufs) != 3 || bufs[1] != nil {
		t.Fatalf("%d buffers (%v), want head, nil, tail", len(bufs), err)
	}
	if got := bytes.Join([][]byte{bufs[0], body, bufs[2]}, nil); !bytes.Equal(got, want) {
		t.Fatalf("with the body in place: % x, want % x", got, want)
	}
	if _, err := Encode(External(1), true); err == nil {
		t.Error("Encode accepted an External")
	}
	if _, _, err := AppendBuffers(nil, nil, External(SizeLimit+1), true, 1); err == nil {
		t.Error("an External above SizeLimit was accepted")
	}
}

func TestVocabularyTable(t *testing.T) {
	const words = 31
	if len(vocabulary) != words+1 {
		t.Fatalf("vocabulary has %d entries, want %d", len(vocabulary)-1, words)
	}
	for i := 1; i <= words; i++ {
		w := vocabulary[i]
		if w == "" {
			t.Errorf("vocabulary[%d] is empty", i)
		}
		if got, ok := vocabIndex(w); !ok || got != i {
			t.Errorf("vocabIndex(%q) = %d, %v; want %d", w, got, ok, i)
		}
		if len(w) > longestWord {
			t.Errorf("%q is longer than longestWord", w)
		}
	}
	for _, w := range []string{"", "unicode", "boolean", "set", "root", "print", "update", "None "} {
		if i, ok := vocabIndex(w); ok {
			t.Errorf("vocabIndex(%q) = %d, want none", w, i)
		}
	}
}
