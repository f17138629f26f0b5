// Package alloc decides which master a worker gets. It is pure: the store
// gathers the facts inside a transaction and records the outcome.
package alloc

import (
	"errors"
	"fmt"
)

// Candidate is a master of the worker's pool.
type Candidate struct {
	Name    string
	Enabled bool
	// Workers is how many workers the master has now, not counting the
	// one being allocated.
	Workers int
}

// Kind says why a master was chosen.
type Kind string

const (
	Locked   Kind = "locked"   // the worker is locked to it
	Sticky   Kind = "sticky"   // the worker had it and it is still enabled
	Balanced Kind = "balanced" // it had the fewest workers of the pool
)

// Decision is the chosen master and why, in words for logs.
type Decision struct {
	Master string
	Kind   Kind
	Reason string
}

// ErrNoMaster means the pool has no enabled master to give.
var ErrNoMaster = errors.New("no enabled master in the pool")

// Choose picks the master for a worker. A lock always wins, even over a
// disabled master: locking is how an administrator says "exactly there".
// Otherwise the current master is kept while it is an enabled member of
// the pool, so that workers do not hop between masters at every boot;
// when it must change, the enabled master with the fewest workers wins,
// ties going to the first name so that the choice is reproducible.
func Choose(locked, current string, pool []Candidate) (Decision, error) {
	if locked != "" {
		return Decision{Master: locked, Kind: Locked, Reason: "the worker is locked to " + locked}, nil
	}
	var best *Candidate
	why := "the worker had no master yet"
	if current != "" {
		why = "its master " + current + " is not in the worker's pool"
	}
	for i := range pool {
		c := &pool[i]
		if c.Name == current {
			if c.Enabled {
				return Decision{Master: c.Name, Kind: Sticky, Reason: "the worker stays on " + c.Name}, nil
			}
			why = "its master " + current + " is disabled"
		}
		if c.Enabled && (best == nil || c.Workers < best.Workers || c.Workers == best.Workers && c.Name < best.Name) {
			best = c
		}
	}
	if best == nil {
		return Decision{}, ErrNoMaster
	}
	return Decision{
		Master: best.Name,
		Kind:   Balanced,
		Reason: fmt.Sprintf("%s; %s has the fewest workers (%d)", why, best.Name, best.Workers),
	}, nil
}
