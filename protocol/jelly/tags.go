package jelly

import (
	"errors"
	"fmt"

	"github.com/buildslave/buildslave/protocol/banana"
)

// Tags: the first element of a jelly list. Those that are vocabulary words
// of the banana "pb" dialect go on the wire as VOCAB; that is the banana
// encoder's business, here they are plain byte strings.
const (
	tagNone          = "None"
	tagBoolean       = "boolean"
	tagUnicode       = "unicode"
	tagTuple         = "tuple"
	tagList          = "list"
	tagDictionary    = "dictionary"
	tagSet           = "set"
	tagFrozenSet     = "frozenset"
	tagReference     = "reference"
	tagDereference   = "dereference"
	tagRemote        = "remote"
	tagLocal         = "local"
	tagUnpersistable = "unpersistable"
	tagFailure       = "twisted.spread.pb.CopyableFailure"
)

// isOpaqueTag reports whether values with this tag are kept as Opaque:
// allowed by Twisted's default security, but of no use to a worker.
func isOpaqueTag(tag string) bool {
	switch tag {
	case "datetime", "date", "time", "timedelta", "decimal":
		return true
	}
	return false
}

// MaxDepth bounds how deeply containers (tuples, lists, sets, dicts,
// failures) may nest, in both directions. Twisted has no such limit, but
// Buildbot values nest a handful of levels, and the bound keeps a hostile
// peer from driving the recursion, and keeps what Jelly produces within
// banana.MaxDepth (a container costs at most three banana lists:
// reference, dictionary and key/value pair).
const MaxDepth = 128

var errTooDeep = fmt.Errorf("containers nested deeper than %d", MaxDepth)

// errListsTooDeep is the unjelly bound on banana lists, which a value can
// reach with fewer containers (references and dict items are lists too).
var errListsTooDeep = fmt.Errorf("lists nested deeper than %d", banana.MaxDepth)

// within says where in a value err happened. A depth error is passed on as
// it is: wrapping it once per level would repeat the path a hundred times.
func within(err error, format string, args ...any) error {
	if errors.Is(err, errTooDeep) || errors.Is(err, errListsTooDeep) {
		return err
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// errNotHashable reports a dict key or set element Python could not hash.
var errNotHashable = errors.New("unhashable value (list, set or dict) as a dict key or set element")

// InsecureJellyError reports a jelly tag that the receiver refuses, as
// Twisted's InsecureJelly does: anything that would name a Python module,
// class, function or instance to create.
type InsecureJellyError struct {
	Tag string
}

func (e *InsecureJellyError) Error() string {
	return fmt.Sprintf("jelly: insecure jelly: tag %q is not allowed", e.Tag)
}

// tagged builds a jelly list: the tag as bytes, then the items.
func tagged(tag string, items ...any) []any {
	return append([]any{[]byte(tag)}, items...)
}
