//go:build windows

// A process that dies on Windows leaves its children running, and
// TASKKILL /T, which walks parent ids, misses those whose parent has
// already gone. A job object holds the whole tree however it was made:
// each command's process is started suspended, put in a job of its own,
// and only then resumed, so that everything it starts is in the job too.
// The job is kill-on-close: when the command ends, or the worker dies
// however it dies, whatever is left in it is ended.

package command

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/buildslave/buildslave/internal/winjob"
)

// processTree is a command's job object; job is 0 if the process could
// not be put in one, and noJob then says why.
type processTree struct {
	job   windows.Handle
	noJob error
}

// killedExitCode is the exit code a job's processes get when it is
// terminated.
const killedExitCode = 1

// adoptTree puts the suspended process cmd has just started in a new
// kill-on-close job and lets it run. Without a job the command still runs,
// and is killed with TASKKILL; only a process that cannot be resumed is an
// error (it is killed then).
func adoptTree(cmd *exec.Cmd) (processTree, error) {
	pid := uint32(cmd.Process.Pid)
	var tree processTree
	tree.job, tree.noJob = newJobFor(pid)
	if err := resumeProcess(pid); err != nil {
		tree.release()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return processTree{}, fmt.Errorf("resuming process %d: %w", pid, err)
	}
	return tree, nil
}

// newJobFor creates a kill-on-close job holding process pid.
func newJobFor(pid uint32) (windows.Handle, error) {
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, pid)
	if err != nil {
		return 0, fmt.Errorf("opening process %d: %w", pid, err)
	}
	defer windows.CloseHandle(h)
	job, err := winjob.Assign(h)
	if err != nil {
		return 0, fmt.Errorf("process %d: %w", pid, err)
	}
	return job, nil
}

// resumeProcess resumes the threads of a process started suspended: its
// main thread, the only one it has. Windows hands that thread's handle to
// CreateProcess's caller, but os/exec does not pass it on, so it is found
// by a snapshot of the system's threads.
func resumeProcess(pid uint32) error {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPTHREAD, 0)
	if err != nil {
		return fmt.Errorf("listing threads: %w", err)
	}
	defer windows.CloseHandle(snap)
	entry := windows.ThreadEntry32{Size: uint32(unsafe.Sizeof(windows.ThreadEntry32{}))}
	resumed := 0
	for err = windows.Thread32First(snap, &entry); err == nil; err = windows.Thread32Next(snap, &entry) {
		if entry.OwnerProcessID != pid {
			continue
		}
		t, err := windows.OpenThread(windows.THREAD_SUSPEND_RESUME, false, entry.ThreadID)
		if err != nil {
			return fmt.Errorf("opening thread %d: %w", entry.ThreadID, err)
		}
		_, err = windows.ResumeThread(t)
		windows.CloseHandle(t)
		if err != nil {
			return fmt.Errorf("resuming thread %d: %w", entry.ThreadID, err)
		}
		resumed++
	}
	if !errors.Is(err, windows.ERROR_NO_MORE_FILES) {
		return fmt.Errorf("listing threads: %w", err)
	}
	if resumed == 0 {
		return errors.New("no thread found")
	}
	return nil
}

// release closes the job, ending whatever is still in it.
func (t *processTree) release() {
	if t.job != 0 {
		windows.CloseHandle(t.job)
		t.job = 0
	}
}

// releaseTree ends what is left of the command's process tree once the
// command is over.
func releaseTree(c *child) { c.tree.release() }

// signalTree ends the child's process tree, or asks it to end. KILL
// terminates the job. TERM and INT send CTRL_BREAK (the only console
// event that can be aimed at one process group; CTRL_C goes to the whole
// console, the worker included) to the tree's group when it shares the
// worker's console; a worker without a console (a service) cannot, and
// terminates the job instead. A process that is in no job is ended with
// TASKKILL /T, which misses the children of processes that have ended,
// and the error says that this happened.
func signalTree(c *child, name string) error {
	pid := c.cmd.Process.Pid
	if name != "KILL" {
		if err := windows.GenerateConsoleCtrlEvent(windows.CTRL_BREAK_EVENT, uint32(pid)); err == nil {
			return nil
		}
	}
	if c.tree.job != 0 {
		err := windows.TerminateJobObject(c.tree.job, killedExitCode)
		if err == nil {
			return nil
		}
		return fmt.Errorf("terminating the job of process %d: %w", pid, err)
	}
	args := []string{"/PID", fmt.Sprint(pid), "/T"}
	if name == "KILL" {
		args = append([]string{"/F"}, args...)
	}
	if out, err := exec.Command("taskkill", args...).CombinedOutput(); err != nil {
		if kerr := c.cmd.Process.Kill(); kerr != nil && !errors.Is(kerr, os.ErrProcessDone) {
			return fmt.Errorf("no job object (%w); TASKKILL failed (%w: %s); killing process %d: %w",
				c.tree.noJob, err, out, pid, kerr)
		}
		return fmt.Errorf("no job object (%w); TASKKILL failed (%w: %s), killed process %d alone",
			c.tree.noJob, err, out, pid)
	}
	return fmt.Errorf("no job object (%w); ended the tree of process %d with TASKKILL /T instead", c.tree.noJob, pid)
}
