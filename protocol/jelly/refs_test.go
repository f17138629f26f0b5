package jelly

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
)

// PB.md §2.2: l = [1]; [l, l].
const sharedListHex = "03 80 08 87 03 80 04 87 01 81 02 80 08 87 01 81 02 80 03 87 01 81"

// PB.md §2.2: d = {}; d['self'] = d.
const selfDictHex = "03 80 04 87 01 81 02 80 05 87 02 80 02 80 " + unicodeTag + " 04 82 73 65 6c 66 02 80 03 87 01 81"

func TestJellySharedList(t *testing.T) {
	l := List{int64(1)}
	if got, want := wire(t, List{l, l}), unhex(sharedListHex); !bytes.Equal(got, want) {
		t.Fatalf("got  % x\nwant % x", got, want)
	}
}

func TestUnjellySharedList(t *testing.T) {
	v, err := fromWire(t, unhex(sharedListHex))
	if err != nil {
		t.Fatal(err)
	}
	outer := v.(List)
	a, b := outer[0].(List), outer[1].(List)
	if !reflect.DeepEqual(a, List{int64(1)}) || &a[0] != &b[0] {
		t.Fatalf("got %#v, want the same [1] twice", outer)
	}
	// Sent back, the sharing is written as Twisted wrote it.
	if got := wire(t, v); !bytes.Equal(got, unhex(sharedListHex)) {
		t.Fatalf("re-jellied as % x", got)
	}
}

func TestJellySelfDict(t *testing.T) {
	d := NewDict()
	d.Set("self", d)
	if got, want := wire(t, d), unhex(selfDictHex); !bytes.Equal(got, want) {
		t.Fatalf("got  % x\nwant % x", got, want)
	}
}

func TestUnjellySelfDict(t *testing.T) {
	v, err := fromWire(t, unhex(selfDictHex))
	if err != nil {
		t.Fatal(err)
	}
	d := v.(*Dict)
	self, ok := d.Get("self")
	if !ok || self != any(d) {
		t.Fatalf("d['self'] = %p, want d itself (%p)", self, d)
	}
	if got := wire(t, d); !bytes.Equal(got, unhex(selfDictHex)) {
		t.Fatalf("re-jellied as % x", got)
	}
}

// TestReferenceNumbering checks that IDs are given in the order of second
// occurrences, as Twisted does: in [a, b, b, a], b is 1 and a is 2.
func TestReferenceNumbering(t *testing.T) {
	a, b := List{int64(1)}, Tuple{int64(2)}
	want := "05 80 08 87" +
		" 03 80 04 87 02 81 02 80 08 87 01 81" + // [reference, 2, [list, 1]]
		" 03 80 04 87 01 81 02 80 0b 87 02 81" + // [reference, 1, [tuple, 2]]
		" 02 80 03 87 01 81" + // [dereference, 1]
		" 02 80 03 87 02 81" // [dereference, 2]
	got := wire(t, List{a, b, b, a})
	if !bytes.Equal(got, unhex(want)) {
		t.Fatalf("got  % x\nwant % x", got, unhex(want))
	}
	v, err := fromWire(t, got)
	if err != nil {
		t.Fatal(err)
	}
	if again := wire(t, v); !bytes.Equal(again, got) {
		t.Fatalf("round trip gave % x", again)
	}
}

func TestSharedEmptyContainersRoundTrip(t *testing.T) {
	// Python: l = []; [l, l]. An empty Go slice has no identity of its
	// own, so Unjelly gives a referenced one a backing array.
	in := "03 80 08 87 03 80 04 87 01 81 01 80 08 87 02 80 03 87 01 81"
	v, err := fromWire(t, unhex(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := wire(t, v); !bytes.Equal(got, unhex(in)) {
		t.Fatalf("re-jellied as % x", got)
	}
	// Two distinct empty lists stay distinct.
	if got, want := wire(t, List{List{}, List{}}), unhex("03 80 08 87 01 80 08 87 01 80 08 87"); !bytes.Equal(got, want) {
		t.Fatalf("got % x, want % x", got, want)
	}
}

func TestSharingAcrossContainerKinds(t *testing.T) {
	d := NewDict("k", int64(1))
	m := map[string]any{"x": int64(1)}
	s := []string{"a"}
	f := &Failure{Type: "builtins.ValueError"}
	v := List{d, d, m, m, s, s, f, f}
	b := wire(t, v)
	got, err := fromWire(t, b)
	if err != nil {
		t.Fatal(err)
	}
	l := got.(List)
	if l[0] != l[1] || l[6] != l[7] {
		t.Fatal("shared dict or failure not shared after the round trip")
	}
	if strings.Count(string(b), "\x03\x87") != 4 { // four dereferences
		t.Fatalf("expected 4 dereferences in % x", b)
	}
	if again := wire(t, got); !bytes.Equal(again, b) {
		t.Fatalf("round trip changed the bytes")
	}
}

func TestJellyCyclicList(t *testing.T) {
	// Twisted can send this; we can write it, but not read it back (a Go
	// slice cannot be built before its elements are known).
	l := make(List, 1)
	l[0] = l
	want := "03 80 04 87 01 81 02 80 08 87 02 80 03 87 01 81"
	if got := wire(t, l); !bytes.Equal(got, unhex(want)) {
		t.Fatalf("got % x, want % x", got, unhex(want))
	}
	if _, err := fromWire(t, unhex(want)); err == nil || !strings.Contains(err.Error(), "only dicts may be cyclic") {
		t.Fatalf("Unjelly of a cyclic list: %v, want a clear error", err)
	}
}

func TestJellyCyclicMap(t *testing.T) {
	m := map[string]any{}
	m["self"] = m
	if got := wire(t, m); !bytes.Equal(got, unhex(selfDictHex)) {
		t.Fatalf("got % x", got)
	}
}

func TestReferenceErrors(t *testing.T) {
	tests := []struct {
		name, hex, want string
	}{
		{"undefined", "02 80 03 87 01 81", "undefined reference 1"},
		{"defined twice", "03 80 08 87 03 80 04 87 01 81 01 80 08 87 03 80 04 87 01 81 01 80 08 87", "defined twice"},
		{"cycle through a tuple", "03 80 04 87 01 81 02 80 0b 87 02 80 03 87 01 81", "only dicts may be cyclic"},
		{"cycle through a failure",
			"03 80 04 87 07 81 02 80 21 82" + hex.EncodeToString([]byte(tagFailure)) + "02 80 03 87 07 81",
			"only dicts may be cyclic"},
		{"ID not an integer", "03 80 04 87 01 82 78 01 80 08 87", "not an integer"},
		{"missing body", "02 80 04 87 01 81", "takes 2 items"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := fromWire(t, unhex(tc.hex))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Unjelly = %#v, %v; want an error containing %q", v, err, tc.want)
			}
		})
	}
}
