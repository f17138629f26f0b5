package jelly

import (
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/buildslave/buildslave/protocol/banana"
)

func b(s string) []byte { return []byte(s) }

func TestUnjellyInsecureTags(t *testing.T) {
	tags := []string{
		"module", "class", "instance", "function", "method", "some.dotted.Class",
		"twisted.spread.pb.CopyableFailureX", "persistent", "copy", "cached", "lcache",
		"dict", "str", "int", "bool", "NoneType", "long", "",
	}
	for _, tag := range tags {
		for _, where := range []string{"top", "nested"} {
			expr := any([]any{b(tag), b("os")})
			if where == "nested" {
				expr = []any{b("dictionary"), []any{[]any{b("unicode"), b("k")}, []any{b("list"), expr}}}
			}
			v, err := Unjelly(expr)
			var ij *InsecureJellyError
			if !errors.As(err, &ij) {
				t.Errorf("%s tag %q: Unjelly = %#v, %v; want an InsecureJellyError", where, tag, v, err)
				continue
			}
			if ij.Tag != tag {
				t.Errorf("InsecureJellyError.Tag = %q, want %q", ij.Tag, tag)
			}
		}
	}
}

func TestUnjellyMalformed(t *testing.T) {
	deep := any([]any{b("list")})
	for range MaxDepth {
		deep = []any{b("list"), deep}
	}
	tests := []struct {
		name string
		expr any
		want string
	}{
		{"empty list", []any{}, "empty list"},
		{"tag not a string", []any{int64(1)}, "not a string"},
		{"Go string", "x", "not a banana value"},
		{"Go int", 1, "not a banana value"},
		{"nil", nil, "not a banana value"},
		{"None with an item", []any{b("None"), int64(1)}, "takes 0 items"},
		{"boolean maybe", []any{b("boolean"), b("maybe")}, "neither true nor false"},
		{"boolean as int", []any{b("boolean"), int64(1)}, "neither true nor false"},
		{"unicode without payload", []any{b("unicode")}, "takes 1 items"},
		{"unicode of an int", []any{b("unicode"), int64(1)}, "not a string"},
		{"unicode invalid", []any{b("unicode"), b("\xff")}, "not valid UTF-8"},
		{"dict item not a pair", []any{b("dictionary"), []any{int64(1)}}, "not a [key, value] list"},
		{"dict item not a list", []any{b("dictionary"), int64(1)}, "not a [key, value] list"},
		{"dict list key", []any{b("dictionary"), []any{[]any{b("list")}, int64(1)}}, "unhashable"},
		{"dict key tuple of dict", []any{b("dictionary"), []any{[]any{b("tuple"), []any{b("dictionary")}}, int64(1)}}, "unhashable"},
		{"set of sets", []any{b("set"), []any{b("set")}}, "unhashable"},
		{"remote luid not an int", []any{b("remote"), b("1")}, "not an integer"},
		{"local without luid", []any{b("local")}, "takes 1 items"},
		{"unpersistable unicode reason", []any{b("unpersistable"), []any{b("unicode"), b("x")}}, "not a string"},
		{"failure state not a dict", []any{b(tagFailure), []any{b("list")}}, "not a dict"},
		{"failure without state", []any{b(tagFailure)}, "takes 1 items"},
		{"opaque with a Go string", []any{b("datetime"), "x"}, "not a banana value"},
		{"too deep", deep, errTooDeep.Error()},
		{"insecure inside a failure", []any{b(tagFailure), []any{b("instance")}}, "insecure"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Unjelly(tc.expr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Unjelly = %#v, %v; want an error containing %q", v, err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "jelly: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestUnjellyLongReferenceChain(t *testing.T) {
	// Reference wrappers are no containers, so MaxDepth does not see them;
	// a chain longer than any banana input can carry is still refused.
	x := any(int64(0))
	for i := range banana.MaxDepth + 1 {
		x = []any{b("reference"), int64(i), x}
	}
	if _, err := Unjelly(x); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Fatalf("got %v, want a nesting error", err)
	}
}

func TestUnjellyKeepsBareValues(t *testing.T) {
	big1 := new(big.Int).Lsh(big.NewInt(1), 70)
	for _, v := range []any{int64(-3), big1, 2.5, b("raw")} {
		got, err := Unjelly(v)
		if err != nil || !reflect.DeepEqual(got, v) {
			t.Errorf("Unjelly(%#v) = %#v, %v", v, got, err)
		}
	}
}

func TestUnjellyBytesKeys(t *testing.T) {
	// Keys are kept as sent; Dict.Get matches text keys sent as bytes.
	v, err := Unjelly([]any{b("dictionary"), []any{b("k"), int64(1)}, []any{[]any{b("tuple"), int64(1)}, int64(2)}})
	if err != nil {
		t.Fatal(err)
	}
	d := v.(*Dict)
	if got, ok := d.Get("k"); !ok || got != int64(1) {
		t.Fatalf("Get(k) = %v, %v", got, ok)
	}
	if !reflect.DeepEqual(d.Items[1].Key, Tuple{int64(1)}) {
		t.Fatalf("tuple key = %#v", d.Items[1].Key)
	}
}

func TestDecoderResolvesReferences(t *testing.T) {
	type obj struct {
		kind string
		luid int64
	}
	var calls []obj
	d := Decoder{
		Remote: func(luid int64) (any, error) {
			calls = append(calls, obj{"remote", luid})
			return &obj{"remote", luid}, nil
		},
		Local: func(luid int64) (any, error) {
			calls = append(calls, obj{"local", luid})
			return &obj{"local", luid}, nil
		},
	}
	v, err := d.Unjelly([]any{b("tuple"), []any{b("remote"), int64(3)}, []any{b("local"), int64(4)}})
	if err != nil {
		t.Fatal(err)
	}
	want := Tuple{&obj{"remote", 3}, &obj{"local", 4}}
	if !reflect.DeepEqual(v, want) || len(calls) != 2 {
		t.Fatalf("got %#v after calls %v", v, calls)
	}
	// An object the Remote function returns can be a dict key.
	if _, err := d.Unjelly([]any{b("dictionary"), []any{[]any{b("remote"), int64(1)}, int64(1)}}); err != nil {
		t.Fatalf("remote reference as a key: %v", err)
	}

	boom := errors.New("no such object")
	d.Local = func(int64) (any, error) { return nil, boom }
	if _, err := d.Unjelly([]any{b("local"), int64(9)}); !errors.Is(err, boom) || !strings.Contains(err.Error(), "local 9") {
		t.Fatalf("Local error: got %v, want it wrapped with the luid", err)
	}
}

func TestZeroDecoderProducesReferenceValues(t *testing.T) {
	v, err := Unjelly([]any{b("list"), []any{b("remote"), int64(3)}, []any{b("local"), int64(4)}})
	if err != nil {
		t.Fatal(err)
	}
	if want := (List{Remote{LUID: 3}, Local{LUID: 4}}); !reflect.DeepEqual(v, want) {
		t.Fatalf("got %#v, want %#v", v, want)
	}
}

func TestUnjellyAcceptsVocabTags(t *testing.T) {
	// A banana decoder in the pb dialect yields the same []byte for a VOCAB
	// word as for a STRING, so "unicode" payloads that are vocabulary
	// words need nothing special; neither do non-vocab tags sent as STRING.
	v, err := Unjelly([]any{b("unicode"), b("message")})
	if err != nil || v != "message" {
		t.Fatalf("got %#v, %v", v, err)
	}
}
