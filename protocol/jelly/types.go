package jelly

// Go representation of jellied Python values.
//
//	Python            Go
//	None              nil
//	bool              bool
//	int               int64 (or *big.Int when it does not fit)
//	float             float64
//	bytes             []byte
//	str               string
//	tuple             Tuple
//	list              List
//	dict              *Dict (insertion-ordered)
//	set / frozenset   Set / FrozenSet
//	pb.Referenceable  Remote (as received) — package pb resolves it
//	RemoteReference   Local  (sent back to its owner)
//	CopyableFailure   *Failure
//	datetime & co.    Opaque (kept as received, re-encodable)
//	unpersistable     Unpersistable
//
// Tuples and lists stay distinct because the master cares: update pairs are
// lists, log values and stat results are tuples.

// Tuple is a Python tuple.
type Tuple []any

// List is a Python list.
type List []any

// Set is a Python set.
type Set []any

// FrozenSet is a Python frozenset.
type FrozenSet []any

// Remote is a reference to an object owned by the sender of the expression
// (wire form [@remote, luid]). The receiver calls methods on it by luid.
type Remote struct{ LUID int64 }

// Local is a reference the sender holds to an object owned by the receiver,
// sent back to it (wire form [@local, luid]).
type Local struct{ LUID int64 }

// Unpersistable is the placeholder a sender emits for a value its own
// security settings refused to serialise; the string is the sender's reason.
type Unpersistable string

// Opaque is a value whose meaning this package does not interpret (datetime,
// date, time, timedelta, decimal). It is kept as received so that it can be
// passed on or re-encoded unchanged.
type Opaque struct {
	Tag   string
	Items []any // the banana items after the tag, as decoded by banana
}

// Item is one key/value pair of a Dict.
type Item struct {
	Key   any
	Value any
}

// Dict is a Python dict. It keeps insertion order, which jelly preserves on
// the wire, and allows any jellyable key (Buildbot only uses str keys).
type Dict struct {
	Items []Item
}

// NewDict returns a Dict holding the given alternating keys and values.
// It panics on an odd number of arguments: that is a programming error in
// the caller's literal, never a consequence of peer input.
func NewDict(kv ...any) *Dict {
	if len(kv)%2 != 0 {
		panic("jelly.NewDict: odd number of arguments")
	}
	d := &Dict{Items: make([]Item, 0, len(kv)/2)}
	for i := 0; i < len(kv); i += 2 {
		d.Items = append(d.Items, Item{Key: kv[i], Value: kv[i+1]})
	}
	return d
}

// Len returns the number of pairs.
func (d *Dict) Len() int {
	if d == nil {
		return 0
	}
	return len(d.Items)
}

// Get returns the value stored under a text key. A key sent as bytes matches
// too: Python peers are not always careful about str versus bytes.
func (d *Dict) Get(key string) (any, bool) {
	if d == nil {
		return nil, false
	}
	for _, it := range d.Items {
		switch k := it.Key.(type) {
		case string:
			if k == key {
				return it.Value, true
			}
		case []byte:
			if string(k) == key {
				return it.Value, true
			}
		}
	}
	return nil, false
}

// Set stores value under a text key, replacing an existing pair in place.
func (d *Dict) Set(key string, value any) {
	for i, it := range d.Items {
		if k, ok := it.Key.(string); ok && k == key {
			d.Items[i].Value = value
			return
		}
	}
	d.Items = append(d.Items, Item{Key: key, Value: value})
}

// Failure is a twisted.spread.pb.CopyableFailure: an exception carried across
// the connection.
type Failure struct {
	// Type is the fully qualified exception class, e.g.
	// "twisted.cred.error.UnauthorizedLogin".
	Type string
	// Value is str(exception); it may be empty.
	Value string
	// Traceback is the sender's traceback text ("Traceback unavailable\n"
	// when the sender hides it).
	Traceback string
	// Parents lists the qualified names of the class and its bases; the
	// receiver classifies a failure by looking names up here.
	Parents []string
	// State is the complete state dict as received (nil for failures built
	// locally); it lets a caller read keys this struct does not name.
	State *Dict
}

// Error makes a Failure usable as a Go error.
func (f *Failure) Error() string {
	if f.Value == "" {
		return f.Type
	}
	return f.Type + ": " + f.Value
}

// Check reports whether the failure is, or derives from, the named class.
func (f *Failure) Check(qualifiedName string) bool {
	if f.Type == qualifiedName {
		return true
	}
	for _, p := range f.Parents {
		if p == qualifiedName {
			return true
		}
	}
	return false
}
