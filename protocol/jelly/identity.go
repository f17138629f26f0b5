package jelly

import (
	"maps"
	"reflect"
	"slices"
)

// Twisted jellies a mutable object met twice within one jelly call as
// [reference, N, <object>] at its first occurrence and [dereference, N] at
// the later ones (PB.md §2.2); that is also how it sends cycles. Jelly does
// the same for the Go values that have an identity, so that a value
// received with references, or a cyclic *Dict, is sent back the way Twisted
// would send it.
//
// A Go slice has an identity only through its backing array: two slices
// are the same object when they share kind, first element and length.
// Empty slices without capacity have none, so they are never referenced.

// kind distinguishes containers whose slices could share a backing array.
type kind uint8

const (
	kindTuple kind = iota + 1
	kindList
	kindSet
	kindFrozenSet
	kindDict
	kindFailure
)

// identity names one Go container for the lifetime of a Jelly call.
type identity struct {
	kind kind
	ptr  any // a pointer: comparable, and it keeps the object alive
	len  int
}

func sliceIdentity[S ~[]E, E any](k kind, s S) (identity, bool) {
	if cap(s) == 0 {
		return identity{}, false
	}
	return identity{k, &s[:1][0], len(s)}, true
}

// identityOf returns the identity of v if it has one.
func identityOf(v any) (identity, bool) {
	switch x := v.(type) {
	case Tuple:
		return sliceIdentity(kindTuple, x)
	case List:
		return sliceIdentity(kindList, x)
	case []any:
		return sliceIdentity(kindList, x)
	case []string:
		return sliceIdentity(kindList, x)
	case Set:
		return sliceIdentity(kindSet, x)
	case FrozenSet:
		return sliceIdentity(kindFrozenSet, x)
	case *Dict:
		return identity{kind: kindDict, ptr: x}, x != nil
	case map[string]any:
		return identity{kind: kindDict, ptr: reflect.ValueOf(x).UnsafePointer()}, x != nil
	case *Failure:
		return identity{kind: kindFailure, ptr: x}, x != nil
	}
	return identity{}, false
}

// shared is what the first pass learnt about an object met more than once.
type shared struct {
	refID   int64 // 0 while the object has been met only once
	emitted bool  // its [reference, …] has been written
}

// scan is Jelly's first pass. It visits containers in the order jelly
// does and numbers the objects met again in the order of their second
// occurrence, which is when Twisted numbers them.
func (j *jellier) scan(v any, depth int) {
	if depth > MaxDepth {
		return // jelly reports it
	}
	if id, ok := identityOf(v); ok {
		if s := j.seen[id]; s != nil {
			if s.refID == 0 {
				j.lastRef++
				s.refID = j.lastRef
			}
			return
		}
		if j.seen == nil {
			j.seen = make(map[identity]*shared)
		}
		j.seen[id] = &shared{}
	}
	switch x := v.(type) {
	case Tuple:
		j.scanAll(x, depth)
	case List:
		j.scanAll(x, depth)
	case []any:
		j.scanAll(x, depth)
	case Set:
		j.scanAll(x, depth)
	case FrozenSet:
		j.scanAll(x, depth)
	case *Dict:
		if x != nil {
			for _, it := range x.Items {
				j.scan(it.Key, depth+1)
				j.scan(it.Value, depth+1)
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			j.scan(x[k], depth+1)
		}
	case *Failure:
		if x != nil {
			if st, err := j.failureState(x); err == nil {
				j.scan(st, depth+1)
			}
		}
	}
}

func (j *jellier) scanAll(items []any, depth int) {
	for _, e := range items {
		j.scan(e, depth+1)
	}
}
