package jelly

import (
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"unicode/utf8"
)

// Jelly returns the banana expression (built of []any, []byte, int64,
// *big.Int and float64) that Twisted's jelly would produce for the Python
// value v stands for; see the table in types.go. It also accepts Go ints of
// every size, float32, map[string]any (a dict, keys sorted so the output
// is deterministic), []any (a list) and []string (a list of str).
//
// Containers met twice, and cycles through *Dict, are written with
// reference/dereference as Twisted writes them. Jelly refuses other types,
// strings that are not valid UTF-8 (a Python str cannot hold them),
// unhashable dict keys and containers nested deeper than MaxDepth.
func Jelly(v any) (any, error) {
	var j jellier
	j.scan(v, 0)
	out, err := j.jelly(v, 0)
	if err != nil {
		return nil, fmt.Errorf("jelly: %w", err)
	}
	return out, nil
}

// jellier holds the state of one Jelly call.
type jellier struct {
	seen    map[identity]*shared
	lastRef int64
	// states keeps the state dict built for each *Failure without one, so
	// that both passes see the same dict.
	states map[*Failure]*Dict
}

// jelly converts v, which sits inside depth containers.
func (j *jellier) jelly(v any, depth int) (any, error) {
	switch x := v.(type) {
	case nil:
		return tagged(tagNone), nil
	case bool:
		if x {
			return tagged(tagBoolean, []byte("true")), nil
		}
		return tagged(tagBoolean, []byte("false")), nil
	case int:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case uint:
		return jellyUint(uint64(x)), nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint64:
		return jellyUint(x), nil
	case *big.Int:
		if x == nil {
			return nil, fmt.Errorf("nil *big.Int")
		}
		return x, nil
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case []byte:
		return x, nil
	case string:
		return jellyText(x)
	case Tuple:
		return jellySeq(j, tagTuple, kindTuple, x, depth)
	case List:
		return jellySeq(j, tagList, kindList, x, depth)
	case []any:
		return jellySeq(j, tagList, kindList, x, depth)
	case []string:
		return jellySeq(j, tagList, kindList, x, depth)
	case Set:
		return jellySeq(j, tagSet, kindSet, x, depth)
	case FrozenSet:
		return jellySeq(j, tagFrozenSet, kindFrozenSet, x, depth)
	case *Dict:
		return j.jellyDict(x, depth)
	case map[string]any:
		return j.jellyMap(x, depth)
	case Remote:
		return tagged(tagRemote, x.LUID), nil
	case Local:
		return tagged(tagLocal, x.LUID), nil
	case Unpersistable:
		// Twisted 22 sends the reason as bytes.
		return tagged(tagUnpersistable, []byte(x)), nil
	case Opaque:
		if !isOpaqueTag(x.Tag) {
			return nil, fmt.Errorf("opaque value with tag %q, which is not one of datetime, date, time, timedelta, decimal", x.Tag)
		}
		return tagged(x.Tag, x.Items...), nil
	case *Failure:
		return j.jellyFailure(x, depth)
	}
	return nil, fmt.Errorf("cannot jelly a value of type %s", TypeName(v))
}

func jellyUint(x uint64) any {
	if x > math.MaxInt64 {
		return new(big.Int).SetUint64(x)
	}
	return int64(x)
}

func jellyText(s string) (any, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("string is not valid UTF-8, so no Python str: %.40q", s)
	}
	return tagged(tagUnicode, []byte(s)), nil
}

// enter checks the nesting of a container about to be written.
func enter(depth int) error {
	if depth+1 > MaxDepth {
		return errTooDeep
	}
	return nil
}

// track writes a container with an identity: as a dereference if it was
// written before in this call, wrapped in a reference if it will be met
// again. build produces its plain jelly list.
func (j *jellier) track(id identity, hasID bool, build func() ([]any, error)) (any, error) {
	var s *shared
	if hasID {
		s = j.seen[id]
	}
	if s == nil || s.refID == 0 {
		return build()
	}
	if s.emitted {
		return tagged(tagDereference, s.refID), nil
	}
	// Mark it before building, so that a cycle back to it finds it.
	s.emitted = true
	body, err := build()
	if err != nil {
		return nil, err
	}
	return tagged(tagReference, s.refID, body), nil
}

func jellySeq[S ~[]E, E any](j *jellier, tag string, k kind, s S, depth int) (any, error) {
	if err := enter(depth); err != nil {
		return nil, err
	}
	id, ok := sliceIdentity(k, s)
	return j.track(id, ok, func() ([]any, error) {
		out := make([]any, 1, 1+len(s))
		out[0] = []byte(tag)
		for i, e := range s {
			if k == kindSet || k == kindFrozenSet {
				if !hashable(e) {
					return nil, fmt.Errorf("%s element %d: %w", tag, i, errNotHashable)
				}
			}
			v, err := j.jelly(e, depth+1)
			if err != nil {
				return nil, within(err, "%s element %d", tag, i)
			}
			out = append(out, v)
		}
		return out, nil
	})
}

func (j *jellier) jellyDict(d *Dict, depth int) (any, error) {
	if err := enter(depth); err != nil {
		return nil, err
	}
	id, ok := identityOf(d)
	return j.track(id, ok, func() ([]any, error) {
		out := make([]any, 1, 1+d.Len())
		out[0] = []byte(tagDictionary)
		if d == nil {
			return out, nil
		}
		for _, it := range d.Items {
			pair, err := j.jellyPair(it.Key, it.Value, depth)
			if err != nil {
				return nil, err
			}
			out = append(out, pair)
		}
		return out, nil
	})
}

func (j *jellier) jellyMap(m map[string]any, depth int) (any, error) {
	if err := enter(depth); err != nil {
		return nil, err
	}
	id, ok := identityOf(m)
	return j.track(id, ok, func() ([]any, error) {
		out := make([]any, 1, 1+len(m))
		out[0] = []byte(tagDictionary)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			pair, err := j.jellyPair(k, m[k], depth)
			if err != nil {
				return nil, err
			}
			out = append(out, pair)
		}
		return out, nil
	})
}

// jellyPair writes one dict item, as the 2-element list Twisted uses.
func (j *jellier) jellyPair(k, v any, depth int) (any, error) {
	if !hashable(k) {
		return nil, fmt.Errorf("dictionary key of type %s: %w", TypeName(k), errNotHashable)
	}
	jk, err := j.jelly(k, depth+1)
	if err != nil {
		return nil, within(err, "dictionary key")
	}
	jv, err := j.jelly(v, depth+1)
	if err != nil {
		return nil, within(err, "dictionary value for key %s", describeKey(k))
	}
	return []any{jk, jv}, nil
}

// describeKey renders a dict key for an error message, briefly.
func describeKey(k any) string {
	switch x := k.(type) {
	case string:
		return fmt.Sprintf("%.40q", x)
	case []byte:
		return fmt.Sprintf("%.40q", x)
	}
	return "of type " + TypeName(k)
}
