//go:build windows

package command

import (
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// startTree starts command through %COMSPEC% and waits until its job holds
// at least n processes, which it returns.
func startTree(t *testing.T, command string, n int) (*child, []uint32) {
	t.Helper()
	argv, line := shellArgv(command)
	path, err := lookPath(argv[0], "", "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := startChild(childSpec{path: path, argv: argv, cmdLine: line, dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		releaseTree(c)
		c.stopReading()
	})
	if c.tree.job == 0 {
		t.Fatalf("no job object: %v", c.tree.noJob)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		pids := jobPIDs(t, c.tree.job)
		if len(pids) >= n {
			return c, pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("job holds %v, want %d processes", pids, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// jobPIDs lists the processes in a job.
func jobPIDs(t *testing.T, job windows.Handle) []uint32 {
	t.Helper()
	var list struct {
		assigned, inList uint32
		ids              [64]uintptr
	}
	if err := windows.QueryInformationJobObject(job, windows.JobObjectBasicProcessIdList,
		uintptr(unsafe.Pointer(&list)), uint32(unsafe.Sizeof(list)), nil); err != nil {
		t.Fatalf("listing the job's processes: %v", err)
	}
	var pids []uint32
	for _, id := range list.ids[:list.inList] {
		pids = append(pids, uint32(id))
	}
	return pids
}

// wantEnded fails unless every process in pids ends within a few seconds.
func wantEnded(t *testing.T, pids []uint32) {
	t.Helper()
	for _, pid := range pids {
		h, err := windows.OpenProcess(windows.SYNCHRONIZE, false, pid)
		if err != nil {
			continue // gone already
		}
		ev, err := windows.WaitForSingleObject(h, 10_000)
		windows.CloseHandle(h)
		if ev != windows.WAIT_OBJECT_0 {
			t.Errorf("process %d still running (%v)", pid, err)
		}
	}
}

// The tree of the issue: a background ping started with `start /b` and a
// foreground one. TASKKILL /T missed the first; the job has both.
const pingTree = "start /b ping -n 120 127.0.0.2 & ping -n 120 127.0.0.3"

func TestKillEndsTheJob(t *testing.T) {
	c, pids := startTree(t, pingTree, 3)
	if err := signalTree(c, "KILL"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("cmd.exe still running after the kill")
	}
	wantEnded(t, pids)
	if rc, _, _ := exitStatus(c.state, true); rc != killedExitCode {
		t.Errorf("rc = %d, want %d", rc, killedExitCode)
	}
}

// TERM asks with CTRL_BREAK where the worker has a console, else
// terminates the job: either way the tree ends.
func TestTermEndsTheTree(t *testing.T) {
	c, pids := startTree(t, "ping -n 120 127.0.0.5", 2)
	if err := signalTree(c, "TERM"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("still running after TERM")
	}
	wantEnded(t, pids)
}

// What a finished command leaves in its job ends with the command.
func TestReleaseEndsWhatIsLeft(t *testing.T) {
	c, pids := startTree(t, "start /b ping -n 120 127.0.0.4", 1)
	select {
	case <-c.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("cmd.exe did not exit")
	}
	left := jobPIDs(t, c.tree.job)
	if len(left) == 0 {
		t.Fatalf("nothing left in the job (had %v); the test proves nothing", pids)
	}
	releaseTree(c)
	wantEnded(t, left)
}
