package jelly

// hashable reports whether Python could use v as a dict key or set
// element: lists, sets and dicts cannot be, nor tuples holding them. Both
// directions check it, so that we neither accept nor send what a Python
// peer could not build.
//
// Values this package does not know (what a Decoder's Remote or Local
// function returns) count as hashable, as Python objects are by default.
func hashable(v any) bool {
	switch x := v.(type) {
	case List, Set, *Dict, []any, []string, map[string]any:
		return false
	case Tuple:
		for _, e := range x {
			if !hashable(e) {
				return false
			}
		}
	case FrozenSet:
		for _, e := range x {
			if !hashable(e) {
				return false
			}
		}
	}
	return true
}
