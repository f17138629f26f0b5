package main

import (
	"runtime"
	"testing"
)

func TestOneProcUnlessSet(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(before) })

	runtime.GOMAXPROCS(2)
	oneProcUnlessSet(func(string) (string, bool) { return "2", true })
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Errorf("with GOMAXPROCS set, the scheduler has %d processors, want the 2 it had", got)
	}
	oneProcUnlessSet(func(string) (string, bool) { return "", false })
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("without GOMAXPROCS, the scheduler has %d processors, want 1", got)
	}
}
