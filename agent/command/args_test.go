package command

import (
	"math"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestSeconds(t *testing.T) {
	tests := []struct {
		value any
		text  string
		unit  string
		set   bool
		d     time.Duration
	}{
		{nil, "None", "secs", false, 0},
		{int64(1), "1", "sec", true, time.Second},
		{1.0, "1.0", "sec", true, time.Second},
		{int64(300), "300", "secs", true, 300 * time.Second},
		{0.25, "0.25", "secs", true, 250 * time.Millisecond},
		{int64(0), "0", "secs", false, 0},
		{1e300, "1e+300", "secs", true, math.MaxInt64},
	}
	for _, tt := range tests {
		args := Args{"timeout": tt.value}
		s, err := secondsArg(args, "timeout")
		if err != nil {
			t.Fatal(err)
		}
		if s.String() != tt.text || s.unit() != tt.unit || s.set() != tt.set || s.duration() != tt.d {
			t.Errorf("%#v: %s %s %v %v", tt.value, s, s.unit(), s.set(), s.duration())
		}
	}
	if _, err := secondsArg(Args{"timeout": "10"}, "timeout"); err == nil {
		t.Error("a string was accepted")
	}
}

// A negative or NaN limit fails the command before anything runs (the
// reference fails it too, after starting the process); a huge one is as
// good as none but still shown as sent.
func TestSecondsRefusesNegative(t *testing.T) {
	for _, v := range []any{int64(-1), -5.0, math.NaN(), new(big.Int).Lsh(big.NewInt(-1), 70)} {
		for _, key := range []string{"timeout", "maxTime", "sigtermTime"} {
			_, err := secondsArg(Args{key: v}, key)
			if err == nil || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "0 or more") {
				t.Errorf("%s=%v: err = %v, want a refusal naming the argument", key, v, err)
			}
		}
	}
	huge := new(big.Int).Lsh(big.NewInt(1), 70)
	s, err := secondsArg(Args{"timeout": huge}, "timeout")
	if err != nil || s.String() != huge.String() || !s.set() || s.duration() != math.MaxInt64 {
		t.Errorf("huge timeout: %v %v", s, err)
	}
	_, err = secondsArg(Args{"timeout": Args{}}, "timeout")
	if err == nil || !strings.Contains(err.Error(), "not dict") {
		t.Errorf("a dict timeout: %v, want a Python type name", err)
	}
}
