package msgpack

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodePrintFrame is MSGPACK.md §2.2's example, byte for byte.
func TestDecodePrintFrame(t *testing.T) {
	b := mustHex(t, "83 a26f70 a57072696e74 a76d657373616765 a861747461636865 64 aa7365715f6e756d626572 00")
	m, err := Decode(b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := Map{{"op", "print"}, {"message", "attached"}, {"seq_number", int64(0)}}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got %#v", m)
	}
	again, _ := Encode(m)
	if !bytes.Equal(again, b) {
		t.Fatalf("re-encoded %x", again)
	}
}

func TestDecodeRefuses(t *testing.T) {
	deep := strings.Repeat("91", 100) + "c0"
	cases := map[string]string{
		"empty":             "",
		"not a map":         "93 01 02 03",
		"trailing bytes":    "80 c0",
		"int key":           "81 01 02",
		"bin key":           "81 c4 01 61 02",
		"invalid utf-8 str": "81 a1 61 a1 ff",
		"truncated str":     "81 a1 61 a5 61",
		"lying str32 len":   "81 a1 61 db ffffffff 61",
		"lying bin32 len":   "81 a1 61 c6 7fffffff 61",
		"lying array32 len": "81 a1 61 dd ffffffff",
		"lying map32 len":   "df 7fffffff a1 61",
		"ext":               "81 a1 61 d4 01 00",
		"timestamp ext":     "81 a1 61 d6 ff 00000000",
		"reserved code":     "81 a1 61 c1",
		"too deep":          "81 a1 61 " + deep,
		"truncated int":     "81 a1 61 cd 01",
		"truncated float":   "81 a1 61 cb 0102",
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			m, err := Decode(mustHex(t, h), Limits{})
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("got %v, %v; want a *DecodeError", m, err)
			}
		})
	}
}

func TestDecodeLimits(t *testing.T) {
	b, _ := Encode(Map{{"a", []any{1, 2, 3, 4}}})
	if _, err := Decode(b, Limits{MaxItems: 3}); err == nil {
		t.Error("4 items accepted under a limit of 3")
	}
	if _, err := Decode(b, Limits{MaxItems: 4}); err != nil {
		t.Errorf("4 items refused under a limit of 4: %v", err)
	}
	b, _ = Encode(Map{{"a", []any{[]any{[]any{}}}}})
	if _, err := Decode(b, Limits{MaxDepth: 3}); err == nil {
		t.Error("depth 4 accepted under a limit of 3")
	}
	if _, err := Decode(b, Limits{MaxDepth: 4}); err != nil {
		t.Errorf("depth 4 refused under a limit of 4: %v", err)
	}
}

func TestDecodeTypes(t *testing.T) {
	b := mustHex(t, "8a a1 61 cf ffffffffffffffff a1 62 cf 0000000000000001 a1 63 d0 80 a1 64 ca 3fc00000"+
		" a1 65 c4 00 a1 66 c3 a1 67 c0 a1 68 92 01 a0 a1 69 81 a1 6a e0 a1 6b d3 8000000000000000")
	m, err := Decode(b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := Map{
		{"a", uint64(math.MaxUint64)}, {"b", int64(1)}, {"c", int64(-128)}, {"d", 1.5},
		{"e", []byte{}}, {"f", true}, {"g", nil}, {"h", []any{int64(1), ""}},
		{"i", Map{{"j", int64(-32)}}}, {"k", int64(math.MinInt64)},
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got  %#v\nwant %#v", m, want)
	}
	if got := m.ToGo()["i"]; !reflect.DeepEqual(got, map[string]any{"j": int64(-32)}) {
		t.Errorf("ToGo nested: %#v", got)
	}
}

func TestEncodeAsMsgpackPython(t *testing.T) {
	type named string
	cases := []struct {
		v    any
		want string
	}{
		{nil, "c0"}, {true, "c3"}, {0, "00"}, {127, "7f"}, {128, "cc80"}, {256, "cd0100"},
		{70000, "ce00011170"}, {int64(1) << 40, "cf0000010000000000"}, {-1, "ff"}, {-32, "e0"},
		{-33, "d0df"}, {-129, "d1ff7f"}, {-40000, "d2ffff63c0"}, {uint64(math.MaxUint64), "cfffffffffffffffff"},
		{1.5, "cb3ff8000000000000"}, {float32(1.5), "cb3ff8000000000000"},
		{"", "a0"}, {strings.Repeat("x", 32), "d920" + strings.Repeat("78", 32)},
		{[]byte(nil), "c400"}, {[]byte("ab"), "c4026162"},
		{[]string{"a"}, "91a161"}, {[2]int{1, 2}, "920102"}, {[]any{nil}, "91c0"},
		{map[string]any{"b": 1, "a": 2}, "82a16102a16201"}, {map[string]string{"k": "v"}, "81a16ba176"},
		{named("n"), "a16e"}, {Map{{"z", 1}, {"a", 2}}, "82a17a01a16102"},
	}
	for _, c := range cases {
		got, err := Encode(Map{{"v", c.v}})
		if err != nil {
			t.Errorf("%#v: %v", c.v, err)
			continue
		}
		want := mustHex(t, "81a176"+c.want)
		if !bytes.Equal(got, want) {
			t.Errorf("%#v: got %x want %x", c.v, got, want)
		}
	}
}

func TestEncodeRefuses(t *testing.T) {
	var ee *EncodeError
	if _, err := Encode(Map{{"args", []any{"ok", "bad\xff"}}}); !errors.As(err, &ee) || ee.Path != "message.args[1]" {
		t.Errorf("invalid UTF-8: %v", err)
	}
	if _, err := Encode(Map{{"c", make(chan int)}}); !errors.As(err, &ee) {
		t.Errorf("chan: %v", err)
	}
	if _, err := Encode(Map{{"m", map[int]int{1: 1}}}); !errors.As(err, &ee) {
		t.Errorf("int keys: %v", err)
	}
	loop := []any{nil}
	loop[0] = loop
	if _, err := Encode(Map{{"loop", loop}}); !errors.As(err, &ee) {
		t.Errorf("self-reference: %v", err)
	}
}

// The typed slices a log update carries encode as the same arrays as
// their []any forms, and a failure deep in a message still names where.
func TestEncodeTypedSlicesAndPaths(t *testing.T) {
	for _, tc := range []struct{ typed, boxed any }{
		{[]int64{0, 1, 127, 128, 300, 70000, -1, -33, 1 << 40}, []any{int64(0), int64(1), int64(127), int64(128), int64(300), int64(70000), int64(-1), int64(-33), int64(1 << 40)}},
		{[]float64{1.7e9, 0, -2.5}, []any{1.7e9, 0.0, -2.5}},
		{[]int64{}, []any{}},
	} {
		a, err := Encode(Map{{Key: "v", Value: tc.typed}})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Encode(Map{{Key: "v", Value: tc.boxed}})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%#v encodes as % x, %#v as % x", tc.typed, a, tc.boxed, b)
		}
	}
	var ee *EncodeError
	_, err := Encode(Map{{Key: "args", Value: []any{"ok", Map{{Key: "", Value: []any{1, map[string]any{"k": "bad\xff"}}}}}}})
	if !errors.As(err, &ee) || ee.Path != "message.args[1].[1].k" {
		t.Errorf("Encode = %v, want an EncodeError at message.args[1].[1].k", err)
	}
}
