//go:build linux

// Reads /proc, like the other leak checks.

package integration

import (
	"context"
	"testing"
	"time"
)

// TestLostConnectionKillsTheCommand kills the master while a command runs:
// with the connection gone the step is lost anyway, so the worker kills the
// command, grandchildren included, and sends nothing more (PB.md §5.7).
func TestLostConnectionKillsTheCommand(t *testing.T) {
	forEachProtocol(t, testLostConnectionKillsTheCommand)
}

func testLostConnectionKillsTheCommand(t *testing.T, protocol string) {
	m, marker := markedBuildMaster(t, "BS_LOST", `["sh", "-c", "sleep 1000 & sleep 1000"]`)
	startOursOver(t, m, protocol, "w1", "s3cret-pw")
	ctx := testContext(t)
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Force(ctx, "b1", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the command's two sleeps", func() bool { return len(processesWith(marker)) >= 2 })

	// SIGKILL: a master that stops cleanly interrupts its builds itself
	// first; a dead one just drops the connection.
	m.Process().Kill()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := waitNoProcessWith(wctx, marker); err != nil {
		t.Fatal(err)
	}
}
