//go:build unix

package main

import (
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeRereadsTokens: after SIGHUP the server accepts the tokens of
// the rewritten file and no longer the old ones.
func TestServeRereadsTokens(t *testing.T) {
	// The test's own subscription keeps SIGHUP from ending the test
	// binary, whenever serve subscribes.
	mine := make(chan os.Signal, 1)
	signal.Notify(mine, syscall.SIGHUP)
	defer signal.Stop(mine)

	dir := t.TempDir()
	db := "sqlite:///" + filepath.Join(dir, "a.db")
	oldTok, newTok, serverFile := filepath.Join(dir, "old"), filepath.Join(dir, "new"), filepath.Join(dir, "tokens")
	mustSA(t, "", "token", "new", oldTok)
	hash := mustSA(t, "", "token", "new", newTok)
	data, _ := os.ReadFile(oldTok)
	if err := os.WriteFile(serverFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	mustSA(t, "", "dbinit", "-D", db)
	addr, log := serveInProcess(t, "-D", db, "--token-file", serverFile)
	api := "http://" + addr
	mustSA(t, "", "pool", "add", "p1", "--api", api, "--token-file", oldTok)

	if err := os.WriteFile(serverFile, []byte(hash), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_ = syscall.Kill(os.Getpid(), syscall.SIGHUP)
		time.Sleep(100 * time.Millisecond)
		if _, err := sa(t, "", "pool", "add", "p2", "--api", api, "--token-file", newTok); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new token is never accepted; log:\n%s", log)
		}
	}
	if _, err := sa(t, "", "pool", "add", "p3", "--api", api, "--token-file", oldTok); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("the old token after the rotation: %v", err)
	}
}
