package msgpack

import "math"

// Pair is one key and value of a msgpack map.
type Pair struct {
	Key   string
	Value any
}

// Map is a msgpack map with its pairs in wire order. The order matters only
// for byte-exact re-encoding; lookups take the first pair with the key.
type Map []Pair

// Get returns the value of the first pair with key.
func (m Map) Get(key string) (any, bool) {
	for _, p := range m {
		if p.Key == key {
			return p.Value, true
		}
	}
	return nil, false
}

// Has reports whether key is present (with any value, nil included).
func (m Map) Has(key string) bool {
	_, ok := m.Get(key)
	return ok
}

// String returns key's value if it is a msgpack str.
func (m Map) String(key string) (string, bool) {
	v, _ := m.Get(key)
	s, ok := v.(string)
	return s, ok
}

// Int returns key's value if it is an integer that fits an int64.
func (m Map) Int(key string) (int64, bool) {
	v, _ := m.Get(key)
	switch n := v.(type) {
	case int64:
		return n, true
	case uint64:
		if n <= math.MaxInt64 {
			return int64(n), true
		}
	}
	return 0, false
}

// Map returns key's value if it is a map.
func (m Map) Map(key string) (Map, bool) {
	v, _ := m.Get(key)
	mm, ok := v.(Map)
	return mm, ok
}

// ToGo returns m as a plain Go map, nested Maps included (see ToGo). A key
// that occurs twice keeps its first value, as Get does.
func (m Map) ToGo() map[string]any {
	out := make(map[string]any, len(m))
	for _, p := range m {
		if _, dup := out[p.Key]; !dup {
			out[p.Key] = ToGo(p.Value)
		}
	}
	return out
}

// ToGo turns a decoded value into plain Go values: every Map, at any depth,
// becomes a map[string]any; everything else is kept as decoded.
func ToGo(v any) any {
	switch x := v.(type) {
	case Map:
		return x.ToGo()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = ToGo(e)
		}
		return out
	}
	return v
}
