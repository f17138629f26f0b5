package command

import (
	"math"
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
