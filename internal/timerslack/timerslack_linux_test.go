package timerslack

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The tests run this test binary as the program that relaxes its timers
// (helperMode "worker") and as the process it starts ("child").
const helperMode = "TIMERSLACK_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperMode) {
	case "worker":
		os.Exit(worker())
	case "child":
		fmt.Println(ownSlack() + " " + strconv.FormatBool(hasEnvOriginal()))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type report struct {
	Starts  int      // how many times the program began
	Threads []string // every thread's slack after Relax
	Env     bool     // envOriginal still in the environment
	Child   string   // the started child's slack and whether it saw envOriginal
	Err     string
}

// worker notes each start in a file, relaxes to 1 ms and starts a child.
func worker() int {
	starts := os.Getenv("TIMERSLACK_TEST_STARTS")
	f, err := os.OpenFile(starts, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return 3
	}
	_, err = f.WriteString("start\n")
	if cerr := f.Close(); err != nil || cerr != nil {
		return 3
	}

	var rep report
	r, err := Relax(time.Millisecond)
	if err != nil {
		rep.Err = err.Error()
	}
	data, _ := os.ReadFile(starts)
	rep.Starts = strings.Count(string(data), "start\n")
	// /proc/TID/timerslack_ns is the thread's own; task/TID has none.
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/" + t.Name() + "/timerslack_ns")
		if err != nil {
			rep.Err = err.Error()
		}
		rep.Threads = append(rep.Threads, strings.TrimSpace(string(b)))
	}
	rep.Env = hasEnvOriginal()
	child := exec.Command("/proc/self/exe")
	child.Env = append(os.Environ(), helperMode+"=child", "GORACE=atexit_sleep_ms=0")
	var out strings.Builder
	child.Stdout = &out
	if err := r.Start(child.Start); err != nil {
		rep.Err = err.Error()
	} else if err := child.Wait(); err != nil {
		rep.Err = err.Error()
	}
	rep.Child = strings.TrimSpace(out.String())
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		return 3
	}
	return 0
}

func ownSlack() string {
	b, err := os.ReadFile("/proc/self/timerslack_ns")
	if err != nil {
		return "unreadable"
	}
	return strings.TrimSpace(string(b))
}

func hasEnvOriginal() bool {
	_, ok := os.LookupEnv(envOriginal)
	return ok
}

// runWorker runs the worker helper as if its parent had given it slack.
func runWorker(t *testing.T, slack int) report {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperMode+"=worker", "GORACE=atexit_sleep_ms=0", "TIMERSLACK_TEST_STARTS="+filepath.Join(t.TempDir(), "starts"))
	var out []byte
	func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		old, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(slack), 0, 0, 0); err != nil {
			t.Fatal(err)
		}
		defer unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(old), 0, 0, 0) //nolint:errcheck // read from this thread a moment ago
		out, err = cmd.Output()
		if err != nil {
			t.Fatalf("worker: %v\n%s", err, out)
		}
	}()
	var rep report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("worker's report %q: %v", out, err)
	}
	if rep.Err != "" {
		t.Fatalf("worker: %s", rep.Err)
	}
	return rep
}

func TestRelaxExecutesOnceAndChildrenKeepTheOriginal(t *testing.T) {
	rep := runWorker(t, 70000)
	if rep.Starts != 2 {
		t.Errorf("the program started %d times, want 2 (once relaxed)", rep.Starts)
	}
	if len(rep.Threads) < 2 {
		t.Errorf("threads %v: the runtime's own threads are missing", rep.Threads)
	}
	for _, s := range rep.Threads {
		if s != "1000000" {
			t.Errorf("thread slacks %v, want all 1000000", rep.Threads)
			break
		}
	}
	if rep.Env {
		t.Errorf("%s is still in the relaxed program's environment", envOriginal)
	}
	if rep.Child != "70000 false" {
		t.Errorf("child: slack and %s seen = %q, want the original 70000 and false", envOriginal, rep.Child)
	}
}

func TestRelaxLeavesACoarserSlackAlone(t *testing.T) {
	rep := runWorker(t, 2000000)
	if rep.Starts != 1 {
		t.Errorf("the program started %d times, want 1", rep.Starts)
	}
	for _, s := range rep.Threads {
		if s != "2000000" {
			t.Errorf("thread slacks %v, want all 2000000", rep.Threads)
			break
		}
	}
	if rep.Child != "2000000 false" {
		t.Errorf("child: %q, want 2000000 false", rep.Child)
	}
}
