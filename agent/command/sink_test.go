package command

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitLimit bounds every wait for something asynchronous; reaching it means
// the test failed, not that it was slow.
const waitLimit = 20 * time.Second

// fakeSink records what a command sends.
type fakeSink struct {
	mu        sync.Mutex
	batches   [][]Update
	completed bool
	failure   error
	late      int   // updates sent after Complete
	sendErr   error // returned by SendUpdates
	changed   chan struct{}
}

func newFakeSink() *fakeSink {
	return &fakeSink{changed: make(chan struct{})}
}

func (s *fakeSink) SendUpdates(_ context.Context, updates []Update) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.completed {
		s.late += len(updates)
	}
	s.batches = append(s.batches, slices.Clone(updates))
	s.notifyLocked()
	return s.sendErr
}

func (s *fakeSink) Complete(_ context.Context, failure error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.completed {
		return errors.New("completed twice")
	}
	s.completed, s.failure = true, failure
	s.notifyLocked()
	return nil
}

func (s *fakeSink) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// updates returns every update so far, in order.
func (s *fakeSink) updates() []Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []Update
	for _, b := range s.batches {
		all = append(all, b...)
	}
	return all
}

func (s *fakeSink) batchCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.batches)
}

// waitFor waits until cond holds for the updates sent so far.
func (s *fakeSink) waitFor(t *testing.T, what string, cond func([]Update) bool) {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond(s.updates()) {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; updates: %q", what, s.updates())
		}
	}
}

// streamText concatenates the text of every update with key, across
// merges and batches.
func streamText(updates []Update, key string) string {
	var b strings.Builder
	for _, u := range updates {
		if u.Key == key {
			if s, ok := u.Value.(string); ok {
				b.WriteString(s)
			}
		}
	}
	return b.String()
}

// keys lists the keys of updates.
func keys(updates []Update) []string {
	k := make([]string, len(updates))
	for i, u := range updates {
		k[i] = u.Key
	}
	return k
}
