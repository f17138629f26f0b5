package jelly

import (
	"errors"
)

// defaultTraceback is what Twisted sends when the sender hides tracebacks.
const defaultTraceback = "Traceback unavailable\n"

// defaultParents end the parents of a failure built without any: the part
// of the method resolution order every Python exception shares. The
// receiver classifies a failure by looking names up in this list.
func defaultParents(typ string) List {
	return List{typ, "builtins.Exception", "builtins.BaseException", "builtins.object"}
}

func (j *jellier) jellyFailure(f *Failure, depth int) (any, error) {
	if f == nil {
		return nil, errors.New("nil *Failure")
	}
	if err := enter(depth); err != nil {
		return nil, err
	}
	id, ok := identityOf(f)
	return j.track(id, ok, func() ([]any, error) {
		st, err := j.failureState(f)
		if err != nil {
			return nil, err
		}
		js, err := j.jelly(st, depth+1)
		if err != nil {
			return nil, within(err, "failure state")
		}
		return tagged(tagFailure, js), nil
	})
}

// failureState returns the dict to send for f: the one it was received
// with, so that a relayed failure is re-encoded unchanged, or else one
// built from its fields.
func (j *jellier) failureState(f *Failure) (*Dict, error) {
	if f.State != nil {
		return f.State, nil
	}
	if st := j.states[f]; st != nil {
		return st, nil
	}
	if f.Type == "" {
		return nil, errors.New("failure without a Type")
	}
	st := canonicalFailureState(f)
	if j.states == nil {
		j.states = make(map[*Failure]*Dict)
	}
	j.states[f] = st
	return st, nil
}

// canonicalFailureState builds the state dict of a CopyableFailure with
// the keys, key order and types Twisted 22 sends (PB.md §2.5); in
// particular "type" is bytes, and "parents" must be present for newer
// Twisted masters.
func canonicalFailureState(f *Failure) *Dict {
	parents := defaultParents(f.Type)
	if len(f.Parents) > 0 {
		parents = make(List, len(f.Parents))
		for i, p := range f.Parents {
			parents[i] = p
		}
	}
	traceback := f.Traceback
	if traceback == "" {
		traceback = defaultTraceback
	}
	return NewDict(
		"count", int64(0), // a serial number no receiver uses
		"type", []byte(f.Type),
		"value", f.Value,
		"captureVars", false,
		"frames", List{},
		"stack", List{},
		"tb", nil,
		"parents", parents,
		"unsafeTracebacks", false,
		"traceback", traceback,
	)
}

// failureFromState reads a received CopyableFailure's state. Keys may be
// missing or extra, and text may come as str or bytes ("type" is bytes from
// Twisted 22): what cannot be read is left empty, the dict stays in State.
func failureFromState(st *Dict) *Failure {
	f := &Failure{State: st}
	f.Type = textKey(st, "type")
	f.Value = textKey(st, "value")
	f.Traceback = textKey(st, "traceback")
	if v, ok := st.Get("parents"); ok {
		var items []any
		switch x := v.(type) {
		case List:
			items = x
		case Tuple:
			items = x
		}
		for _, p := range items {
			if s, ok := text(p); ok {
				f.Parents = append(f.Parents, s)
			}
		}
	}
	return f
}

func textKey(d *Dict, key string) string {
	v, _ := d.Get(key)
	s, _ := text(v)
	return s
}

func text(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case []byte:
		return string(x), true
	}
	return "", false
}
