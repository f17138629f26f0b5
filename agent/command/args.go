package command

import (
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/buildslave/buildslave/internal/pytext"
)

// The helpers below read argument values with the leniency of the
// reference worker, which tests most of them for Python truthiness and
// accepts str where bytes would do and vice versa.

// TextValue returns v as a string if it is text (str or bytes in Python):
// Buildbot's own decode() helpers accept both, and so do we.
func TextValue(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case []byte:
		return string(x), true
	}
	return "", false
}

// boolArg returns the truthiness of args[key], or def if the key is absent.
func boolArg(args Args, key string, def bool) bool {
	v, ok := args[key]
	if !ok {
		return def
	}
	return truthy(v)
}

// truthy is Python's bool(v) for the value types Args holds.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case int:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case []byte:
		return len(x) > 0
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// seconds is a duration argument as the master sent it: the number keeps
// its Python type so that headers print 300 and 1.5 the way the reference
// does.
type seconds struct {
	value any // int64, float64 or *big.Int
}

func (s seconds) float() float64 {
	switch x := s.value.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f
	}
	return 0
}

// duration is the value as a time.Duration, saturating rather than
// overflowing for absurdly long limits.
func (s seconds) duration() time.Duration {
	f := s.float() * float64(time.Second)
	if f >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(f)
}

// set reports whether the argument enables its limit: like the reference,
// a zero limit is no limit.
func (s seconds) set() bool {
	f := s.float()
	return f > 0 && !math.IsNaN(f)
}

// String formats the value as Python's str() does.
func (s seconds) String() string {
	return pyRepr(s.value)
}

// unit is the word the reference puts after the value in the header.
func (s seconds) unit() string {
	if s.float() == 1 {
		return "sec"
	}
	return "secs"
}

// secondsArg reads an optional number of seconds; absent or None gives the
// zero seconds, which is no limit.
func secondsArg(args Args, key string) (seconds, error) {
	var s seconds
	switch x := args[key].(type) {
	case nil:
		return seconds{}, nil
	case int64, float64:
		s = seconds{value: x}
	case int:
		s = seconds{value: int64(x)}
	case *big.Int:
		s = seconds{value: x}
	}
	if s.value != nil {
		// The reference starts its timer with a negative (or NaN) delay,
		// which Twisted refuses, and fails the command; failing it before
		// the process starts is clearer and leaves nothing running.
		if f := s.float(); f < 0 || math.IsNaN(f) {
			return seconds{}, negativeSeconds(key, s.value)
		}
		return s, nil
	}
	return seconds{}, fmt.Errorf("argument %q must be a number of seconds, not %s", key, pytext.TypeName(args[key]))
}

func negativeSeconds(key string, v any) error {
	return fmt.Errorf("argument %q must be 0 or more seconds (0 or None for no limit), not %s", key, pyRepr(v))
}
