package alloc

import (
	"errors"
	"strings"
	"testing"
)

func TestChoose(t *testing.T) {
	pool := []Candidate{{"m1", true, 5}, {"m2", true, 2}, {"m3", false, 0}, {"m4", true, 2}}
	for _, tc := range []struct {
		name, locked, current string
		want                  string
		kind                  Kind
		why                   string
	}{
		{"locked wins over everything", "m3", "m1", "m3", Locked, "locked to m3"},
		{"sticky while enabled", "", "m1", "m1", Sticky, "stays on m1"},
		{"new worker goes to the least loaded, ties by name", "", "", "m2", Balanced, "no master yet; m2 has the fewest workers (2)"},
		{"disabled master: rebalanced", "", "m3", "m2", Balanced, "m3 is disabled"},
		{"master gone from the pool: rebalanced", "", "other", "m2", Balanced, "other is not in the worker's pool"},
	} {
		d, err := Choose(tc.locked, tc.current, pool)
		if err != nil || d.Master != tc.want || d.Kind != tc.kind || !strings.Contains(d.Reason, tc.why) {
			t.Errorf("%s: got %+v, %v; want %s (%s)", tc.name, d, err, tc.want, tc.kind)
		}
	}
	if _, err := Choose("", "m1", []Candidate{{"m1", false, 0}}); !errors.Is(err, ErrNoMaster) {
		t.Errorf("no enabled master: err = %v", err)
	}
}

// TestChooseBalances: allocating workers one after another spreads them
// evenly.
func TestChooseBalances(t *testing.T) {
	pool := []Candidate{{"a", true, 0}, {"b", true, 0}, {"c", true, 0}}
	for range 10 {
		d, err := Choose("", "", pool)
		if err != nil {
			t.Fatal(err)
		}
		for i := range pool {
			if pool[i].Name == d.Master {
				pool[i].Workers++
			}
		}
	}
	if pool[0].Workers != 4 || pool[1].Workers != 3 || pool[2].Workers != 3 {
		t.Errorf("spread = %+v", pool)
	}
}
