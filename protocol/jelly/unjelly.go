package jelly

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"unicode/utf8"

	"github.com/buildslave/buildslave/protocol/banana"
)

// A Decoder turns banana expressions back into values. Its functions
// resolve references to objects: Remote receives the luid of a
// [remote, luid] (an object the sender owns), Local that of a
// [local, luid] (one of ours, sent back). A nil function produces a Remote
// or Local value; an error from one fails the whole Unjelly.
//
// The zero Decoder is ready to use.
type Decoder struct {
	Remote func(luid int64) (any, error)
	Local  func(luid int64) (any, error)
}

// Unjelly decodes expr with the zero Decoder.
func Unjelly(expr any) (any, error) {
	return Decoder{}.Unjelly(expr)
}

// Unjelly returns the value a banana expression (as banana.Decoder returns
// it) stands for; see the table in types.go.
//
// It accepts what Twisted's default security allows and a worker can use:
// bare integers, floats and byte strings, and lists tagged None, boolean,
// unicode, tuple, list, dictionary, set, frozenset, reference, dereference,
// remote, local, unpersistable, datetime, date, time, timedelta, decimal
// and twisted.spread.pb.CopyableFailure. Any other tag is an
// *InsecureJellyError. References may form cycles only through dicts: a
// dereference to a list, tuple or set still being decoded is an error.
func (d Decoder) Unjelly(expr any) (any, error) {
	u := unjellier{d: d}
	v, err := u.value(expr, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("jelly: unjelly: %w", err)
	}
	return v, nil
}

// unjellier holds the state of one Unjelly call.
type unjellier struct {
	d    Decoder
	refs map[int64]*refSlot
	// lists counts the lists being decoded. Containers are bounded by
	// MaxDepth, but reference wrappers are not; this bounds the recursion
	// for any tree, even one built in Go rather than by banana.Decoder.
	lists int
}

// refSlot is the target of a reference ID.
type refSlot struct {
	value any
	done  bool // value is complete (or, for a dict, already allocated)
}

// value decodes expr, which sits inside depth containers. slot, if not
// nil, is the reference whose body expr is: a dict registers itself there
// before decoding its contents, so that they can refer back to it; other
// values are registered by reference once complete.
func (u *unjellier) value(expr any, depth int, slot *refSlot) (any, error) {
	switch x := expr.(type) {
	case int64, *big.Int, float64, []byte:
		return x, nil
	case []any:
		return u.list(x, depth, slot)
	}
	return nil, fmt.Errorf("%s is not a banana value", TypeName(expr))
}

// list decodes a jelly list: a tag, then what the tag calls for.
func (u *unjellier) list(x []any, depth int, slot *refSlot) (any, error) {
	if u.lists >= banana.MaxDepth {
		return nil, errListsTooDeep
	}
	u.lists++
	defer func() { u.lists-- }()
	if len(x) == 0 {
		return nil, errors.New("empty list where a jelly value should be")
	}
	tagBytes, ok := x[0].([]byte)
	if !ok {
		return nil, fmt.Errorf("jelly list tagged with a %s, not a string", TypeName(x[0]))
	}
	tag, args := string(tagBytes), x[1:]
	switch tag {
	case tagNone:
		return nil, arity(tag, args, 0)
	case tagBoolean:
		return unjellyBool(args)
	case tagUnicode:
		return unjellyText(args)
	case tagTuple:
		s, err := u.seq(tag, args, depth, slot)
		return Tuple(s), err
	case tagList:
		s, err := u.seq(tag, args, depth, slot)
		return List(s), err
	case tagSet:
		s, err := u.seq(tag, args, depth, slot)
		return Set(s), err
	case tagFrozenSet:
		s, err := u.seq(tag, args, depth, slot)
		return FrozenSet(s), err
	case tagDictionary:
		return u.dict(args, depth, slot)
	case tagReference:
		return u.reference(args, depth)
	case tagDereference:
		return u.dereference(args)
	case tagRemote, tagLocal:
		return u.remoteOrLocal(tag, args)
	case tagUnpersistable:
		if err := arity(tag, args, 1); err != nil {
			return nil, err
		}
		reason, ok := args[0].([]byte)
		if !ok {
			return nil, fmt.Errorf("unpersistable reason is a %s, not a string", TypeName(args[0]))
		}
		return Unpersistable(reason), nil
	case tagFailure:
		return u.failure(args, depth)
	}
	if isOpaqueTag(tag) {
		if err := checkBanana(args, depth); err != nil {
			return nil, within(err, "%s", tag)
		}
		return Opaque{Tag: tag, Items: slices.Clone(args)}, nil
	}
	return nil, &InsecureJellyError{Tag: tag}
}

func arity(tag string, args []any, n int) error {
	if len(args) != n {
		return fmt.Errorf("%s takes %d items, got %d", tag, n, len(args))
	}
	return nil
}

func unjellyBool(args []any) (any, error) {
	if err := arity(tagBoolean, args, 1); err != nil {
		return nil, err
	}
	b, ok := args[0].([]byte)
	switch {
	case !ok:
		return nil, fmt.Errorf("boolean neither true nor false: a %s", TypeName(args[0]))
	case string(b) == "true":
		return true, nil
	case string(b) == "false":
		return false, nil
	}
	return nil, fmt.Errorf("boolean neither true nor false: %.40q", b)
}

func unjellyText(args []any) (any, error) {
	if err := arity(tagUnicode, args, 1); err != nil {
		return nil, err
	}
	b, ok := args[0].([]byte)
	if !ok {
		return nil, fmt.Errorf("unicode payload is a %s, not a string", TypeName(args[0]))
	}
	if !utf8.Valid(b) {
		// Python's decode would fail, so Twisted refuses it too.
		return nil, fmt.Errorf("unicode payload is not valid UTF-8: %.40q", b)
	}
	return string(b), nil
}

// seq decodes the items of a tuple, list, set or frozenset.
func (u *unjellier) seq(tag string, args []any, depth int, slot *refSlot) ([]any, error) {
	if err := enter(depth); err != nil {
		return nil, err
	}
	// A referenced empty container still gets a backing array: that is
	// its identity, which Jelly needs to write the reference again.
	c := len(args)
	if slot != nil {
		c = max(c, 1)
	}
	out := make([]any, len(args), c)
	set := tag == tagSet || tag == tagFrozenSet
	for i, e := range args {
		v, err := u.value(e, depth+1, nil)
		if err != nil {
			return nil, within(err, "%s element %d", tag, i)
		}
		if set && !hashable(v) {
			return nil, fmt.Errorf("%s element %d: %w", tag, i, errNotHashable)
		}
		out[i] = v
	}
	return out, nil
}

func (u *unjellier) dict(args []any, depth int, slot *refSlot) (any, error) {
	if err := enter(depth); err != nil {
		return nil, err
	}
	d := &Dict{Items: make([]Item, 0, len(args))}
	if slot != nil {
		// Registered before its contents, so that they can refer to it.
		slot.value, slot.done = d, true
	}
	for i, e := range args {
		pair, ok := e.([]any)
		if !ok || len(pair) != 2 {
			return nil, fmt.Errorf("dictionary item %d is not a [key, value] list", i)
		}
		k, err := u.value(pair[0], depth+1, nil)
		if err != nil {
			return nil, within(err, "dictionary key %d", i)
		}
		if !hashable(k) {
			return nil, fmt.Errorf("dictionary key %d: %w", i, errNotHashable)
		}
		v, err := u.value(pair[1], depth+1, nil)
		if err != nil {
			return nil, within(err, "dictionary value for key %s", describeKey(k))
		}
		// Duplicate keys are kept as sent; Twisted never sends them.
		d.Items = append(d.Items, Item{Key: k, Value: v})
	}
	return d, nil
}

func refID(tag string, args []any, n int) (int64, error) {
	if err := arity(tag, args, n); err != nil {
		return 0, err
	}
	id, ok := args[0].(int64)
	if !ok {
		return 0, fmt.Errorf("%s ID is a %s, not an integer", tag, TypeName(args[0]))
	}
	return id, nil
}

func (u *unjellier) reference(args []any, depth int) (any, error) {
	id, err := refID(tagReference, args, 2)
	if err != nil {
		return nil, err
	}
	if _, dup := u.refs[id]; dup {
		return nil, fmt.Errorf("reference %d defined twice", id)
	}
	if u.refs == nil {
		u.refs = make(map[int64]*refSlot)
	}
	slot := &refSlot{}
	u.refs[id] = slot
	v, err := u.value(args[1], depth, slot)
	if err != nil {
		return nil, within(err, "reference %d", id)
	}
	slot.value, slot.done = v, true
	return v, nil
}

func (u *unjellier) dereference(args []any) (any, error) {
	id, err := refID(tagDereference, args, 1)
	if err != nil {
		return nil, err
	}
	slot, ok := u.refs[id]
	switch {
	case !ok:
		return nil, fmt.Errorf("dereference to undefined reference %d", id)
	case !slot.done:
		return nil, fmt.Errorf("dereference %d into its own unfinished value: only dicts may be cyclic", id)
	}
	return slot.value, nil
}

func (u *unjellier) remoteOrLocal(tag string, args []any) (any, error) {
	luid, err := refID(tag, args, 1)
	if err != nil {
		return nil, err
	}
	resolve := u.d.Remote
	if tag == tagLocal {
		resolve = u.d.Local
	}
	if resolve == nil {
		if tag == tagLocal {
			return Local{LUID: luid}, nil
		}
		return Remote{LUID: luid}, nil
	}
	v, err := resolve(luid)
	if err != nil {
		return nil, within(err, "resolving %s %d", tag, luid)
	}
	return v, nil
}

func (u *unjellier) failure(args []any, depth int) (any, error) {
	if err := arity(tagFailure, args, 1); err != nil {
		return nil, err
	}
	if err := enter(depth); err != nil {
		return nil, err
	}
	v, err := u.value(args[0], depth+1, nil)
	if err != nil {
		return nil, within(err, "failure state")
	}
	st, ok := v.(*Dict)
	if !ok {
		return nil, fmt.Errorf("failure state is a %s, not a dict", TypeName(v))
	}
	return failureFromState(st), nil
}

// checkBanana verifies that the items of an Opaque value are banana
// values, which Jelly will write back unchanged.
func checkBanana(items []any, depth int) error {
	if err := enter(depth); err != nil {
		return err
	}
	for _, e := range items {
		switch x := e.(type) {
		case int64, *big.Int, float64, []byte:
		case []any:
			if err := checkBanana(x, depth+1); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s is not a banana value", TypeName(e))
		}
	}
	return nil
}
