package command

import (
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func alive(pid int) bool {
	st, err := procState(pid)
	return err == nil && st != 'Z'
}

// pidsInGroup lists the live members of process group pgid.
func pidsInGroup(t *testing.T, pgid int) []int {
	t.Helper()
	members, err := groupMembers(leftover{PGID: pgid, SID: mustStat(t, pgid).session, Start: 0})
	if err != nil {
		t.Fatal(err)
	}
	return members
}

func mustStat(t *testing.T, pid int) procStat {
	t.Helper()
	st, err := readProcStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// A command's process group, recorded and then abandoned as by a worker
// killed with -9, is ended by the next start: leader and children alike.
// A record whose start time does not match the process now holding the
// number is left alone.
func TestCleanLeftoversEndsRecordedGroups(t *testing.T) {
	base := t.TempDir()
	c, err := startChild(childSpec{path: "/bin/sh", argv: []string{"/bin/sh", "-c", "sleep 300 & sleep 300 & wait"}, dir: base})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL) }()
	pgid := c.cmd.Process.Pid
	trackGroup(&Environment{Basedir: base}, c, []string{"/bin/sh", "-c", "sleep"}) // never released
	deadline := time.Now().Add(5 * time.Second)
	for len(pidsInGroup(t, pgid)) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	members := pidsInGroup(t, pgid)
	if len(members) < 3 {
		t.Fatalf("group %d has %v, want the shell and two sleeps", pgid, members)
	}

	// Someone else's process, recorded with a start time that is not its own.
	other := exec.Command("sleep", "300")
	other.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Process.Kill() }()
	st := mustStat(t, other.Process.Pid)
	recordLeftover(base, leftover{Kind: "group", PGID: other.Process.Pid, SID: st.session, Start: st.start + 1, Boot: bootID()}, slog.New(slog.DiscardHandler))
	// And a record of a previous boot.
	recordLeftover(base, leftover{Kind: "group", PGID: other.Process.Pid, SID: st.session, Start: st.start, Boot: "another-boot"}, slog.New(slog.DiscardHandler))

	var logged strings.Builder
	CleanLeftovers(base, slog.New(slog.NewTextHandler(&logged, nil)))
	<-c.exited
	deadline = time.Now().Add(5 * time.Second)
	for {
		var left []int
		for _, pid := range members {
			if alive(pid) {
				left = append(left, pid)
			}
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still running after the cleanup: %v", left)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !alive(other.Process.Pid) {
		t.Error("a process the records did not prove ours was killed")
	}
	if !strings.Contains(logged.String(), "ended 3 process(es)") || !strings.Contains(logged.String(), "sleep") {
		t.Errorf("log %q does not say what was ended", logged.String())
	}
	if recs, _ := filepath.Glob(filepath.Join(base, leftoverPrefix+"*")); len(recs) != 0 {
		t.Errorf("records left: %v", recs)
	}
}
