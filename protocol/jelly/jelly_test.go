package jelly

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/buildslave/buildslave/protocol/banana"
)

// unhex turns "7f 7f 81" into bytes; it panics on a typo in a test table.
func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// wire jellies v and encodes it in the pb dialect.
func wire(t *testing.T, v any) []byte {
	t.Helper()
	expr, err := Jelly(v)
	if err != nil {
		t.Fatalf("Jelly(%#v): %v", v, err)
	}
	b, err := banana.Encode(expr, true)
	if err != nil {
		t.Fatalf("banana.Encode: %v", err)
	}
	return b
}

// fromWire decodes one pb-dialect expression and unjellies it.
func fromWire(t *testing.T, b []byte) (any, error) {
	t.Helper()
	d := banana.NewDecoder(bytes.NewReader(b))
	d.SetVocabulary(true)
	expr, err := d.Decode()
	if err != nil {
		t.Fatalf("banana: %v", err)
	}
	return Unjelly(expr)
}

const unicodeTag = "07 82 75 6e 69 63 6f 64 65" // "unicode", never a VOCAB word

// mappingRows are the rows of PB.md §2.1 (with the bytes it gives, or that
// follow from it), plus the other Go types of types.go's table.
var mappingRows = []struct {
	name  string
	value any
	hex   string
}{
	{"None", nil, "01 80 01 87"},
	{"True", true, "02 80 07 82 62 6f 6f 6c 65 61 6e 04 82 74 72 75 65"},
	{"False", false, "02 80 07 82 62 6f 6f 6c 65 61 6e 05 82 66 61 6c 73 65"},
	{"int", int64(5), "05 81"},
	{"negative int", int64(-5), "05 83"},
	{"big int", new(big.Int).Lsh(big.NewInt(1), 64), "00 00 00 00 00 00 00 00 00 02 85"},
	{"float", 1.5, "84 3f f8 00 00 00 00 00 00"},
	{"bytes", []byte("w1"), "02 82 77 31"},
	{"bytes equal to a vocab word", []byte("message"), "1a 87"},
	{"str", "x", "02 80 " + unicodeTag + " 01 82 78"},
	{"str equal to a vocab word", "message", "02 80 " + unicodeTag + " 1a 87"},
	{"empty str", "", "02 80 " + unicodeTag + " 00 82"},
	{"non-ASCII str", "é", "02 80 " + unicodeTag + " 02 82 c3 a9"},
	{"empty tuple", Tuple{}, "01 80 0b 87"},
	{"tuple", Tuple{[]byte("w1")}, "02 80 0b 87 02 82 77 31"},
	{"empty list", List{}, "01 80 08 87"},
	{"list", List{int64(1), nil}, "03 80 08 87 01 81 01 80 01 87"},
	{"empty dict", NewDict(), "01 80 05 87"},
	{"dict", NewDict("message", "attached"),
		"02 80 05 87 02 80 02 80 " + unicodeTag + " 1a 87 02 80 " + unicodeTag + " 08 82 61 74 74 61 63 68 65 64"},
	{"dict with bytes and int keys", NewDict([]byte("k"), int64(1), int64(2), Tuple{}),
		"03 80 05 87 02 80 01 82 6b 01 81 02 80 02 81 01 80 0b 87"},
	{"set", Set{int64(1)}, "02 80 03 82 73 65 74 01 81"},
	{"frozenset", FrozenSet{}, "01 80 09 82 66 72 6f 7a 65 6e 73 65 74"},
	{"datetime", Opaque{Tag: "datetime", Items: []any{[]byte("2024 1 2 3 4 5 6")}},
		"02 80 08 82 64 61 74 65 74 69 6d 65 10 82 32 30 32 34 20 31 20 32 20 33 20 34 20 35 20 36"},
	{"date", Opaque{Tag: "date", Items: []any{[]byte("2024 1 2")}},
		"02 80 04 82 64 61 74 65 08 82 32 30 32 34 20 31 20 32"},
	{"time", Opaque{Tag: "time", Items: []any{[]byte("3 4 5 6")}},
		"02 80 04 82 74 69 6d 65 07 82 33 20 34 20 35 20 36"},
	{"timedelta", Opaque{Tag: "timedelta", Items: []any{[]byte("1 2 3")}},
		"02 80 09 82 74 69 6d 65 64 65 6c 74 61 05 82 31 20 32 20 33"},
	{"decimal", Opaque{Tag: "decimal", Items: []any{int64(314), int64(-2)}},
		"03 80 07 82 64 65 63 69 6d 61 6c 3a 02 81 02 83"},
	{"remote", Remote{LUID: 1}, "02 80 10 87 01 81"},
	{"local", Local{LUID: 2}, "02 80 11 87 02 81"},
	{"unpersistable", Unpersistable("instance of class X deemed insecure"),
		"02 80 0c 87 23 82" + hex.EncodeToString([]byte("instance of class X deemed insecure"))},
	{"login answer", Tuple{unhex("4fe55b13d69d2cc6a1ac3fee05829ee3"), Remote{LUID: 1}},
		"03 80 0b 87 10 82 4f e5 5b 13 d6 9d 2c c6 a1 ac 3f ee 05 82 9e e3 02 80 10 87 01 81"},
	{"update pair", List{List{NewDict("stdout", "hello\n"), int64(0)}},
		"02 80 08 87 03 80 08 87 02 80 05 87 02 80 02 80 " + unicodeTag + " 06 82 73 74 64 6f 75 74 02 80 " +
			unicodeTag + " 06 82 68 65 6c 6c 6f 0a 00 81"},
}

func TestJellyMapping(t *testing.T) {
	for _, tc := range mappingRows {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := wire(t, tc.value), unhex(tc.hex); !bytes.Equal(got, want) {
				t.Fatalf("wire form\n got % x\nwant % x", got, want)
			}
		})
	}
}

func TestUnjellyMapping(t *testing.T) {
	for _, tc := range mappingRows {
		t.Run(tc.name, func(t *testing.T) {
			got, err := fromWire(t, unhex(tc.hex))
			if err != nil {
				t.Fatalf("Unjelly: %v", err)
			}
			if !reflect.DeepEqual(got, tc.value) {
				t.Fatalf("Unjelly = %#v, want %#v", got, tc.value)
			}
		})
	}
}

// TestJellyGoTypes covers the Go types Jelly accepts beyond those Unjelly
// produces: each must come out as the canonical form of its value.
func TestJellyGoTypes(t *testing.T) {
	tests := []struct {
		value any
		same  any // the Unjelly-side value with the same wire form
	}{
		{int(7), int64(7)},
		{int8(-7), int64(-7)},
		{int16(7), int64(7)},
		{int32(7), int64(7)},
		{uint(7), int64(7)},
		{uint8(7), int64(7)},
		{uint16(7), int64(7)},
		{uint32(math.MaxUint32), int64(math.MaxUint32)},
		{uint64(math.MaxUint64), new(big.Int).SetUint64(math.MaxUint64)},
		{float32(0.5), 0.5},
		{[]any{"a", int64(1)}, List{"a", int64(1)}},
		{[]string{"a", "b"}, List{"a", "b"}},
		{[]string(nil), List{}},
		{map[string]any{"b": int64(2), "a": true}, NewDict("a", true, "b", int64(2))},
		{(*Dict)(nil), NewDict()},
	}
	for _, tc := range tests {
		if got, want := wire(t, tc.value), wire(t, tc.same); !bytes.Equal(got, want) {
			t.Errorf("Jelly(%T %#v) = % x, want % x", tc.value, tc.value, got, want)
		}
	}
}

func TestJellyTreeUsesByteStrings(t *testing.T) {
	got, err := Jelly(List{"x", []byte("y")})
	if err != nil {
		t.Fatal(err)
	}
	want := []any{[]byte("list"), []any{[]byte("unicode"), []byte("x")}, []byte("y")}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Jelly = %#v, want %#v", got, want)
	}
}

func TestJellyRefuses(t *testing.T) {
	deep := any(List{})
	for range MaxDepth {
		deep = List{deep}
	}
	tests := []struct {
		name  string
		value any
		err   error // nil: any error
	}{
		{"struct", struct{}{}, nil},
		{"pointer", new(int), nil},
		{"channel", make(chan int), nil},
		{"map of other types", map[int]any{}, nil},
		{"nil big.Int", (*big.Int)(nil), nil},
		{"nil failure", (*Failure)(nil), nil},
		{"failure without a type", &Failure{Value: "x"}, nil},
		{"invalid UTF-8", "\xff", nil},
		{"invalid UTF-8 key", NewDict("\xff", int64(1)), nil},
		{"opaque with another tag", Opaque{Tag: "module", Items: []any{[]byte("os")}}, nil},
		{"list key", NewDict(List{}, int64(1)), errNotHashable},
		{"dict key", NewDict(NewDict(), int64(1)), errNotHashable},
		{"tuple key holding a list", NewDict(Tuple{List{}}, int64(1)), errNotHashable},
		{"list in a set", Set{List{}}, errNotHashable},
		{"too deep", deep, errTooDeep},
		{"unsupported deep inside", NewDict("a", List{Tuple{struct{}{}}}), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Jelly(tc.value)
			if err == nil {
				t.Fatalf("Jelly = %#v, want an error", got)
			}
			if tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("Jelly error %v, want %v", err, tc.err)
			}
		})
	}
}

func TestJellyAtMaxDepth(t *testing.T) {
	deep := any(List{})
	for range MaxDepth - 1 {
		deep = NewDict("k", deep)
	}
	b := wire(t, deep) // within banana.MaxDepth despite the pair lists
	got, err := fromWire(t, b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, deep) {
		t.Fatal("deep value changed on the way")
	}
}
