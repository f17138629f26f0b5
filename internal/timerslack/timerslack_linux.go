package timerslack

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// envOriginal carries the slack the worker was given across the
// execution that relaxes it; the new image removes it from its
// environment at once, so no build sees it.
const envOriginal = "BUILDSLAVE_CHILD_TIMERSLACK_NS"

// Relax gives every thread of this program a timer slack of at least
// slack. When the calling thread's slack is finer, it sets it and
// executes the program again, with the same arguments, environment and
// open descriptors: it then does not return, and the new image's call
// returns. It returns at once when the slack is already that coarse (the
// new image, or a service manager that set it). On failure it changes
// nothing and says why; the worker runs on with the timers it has.
//
// Call it before anything else runs: the new image starts the program
// over.
func Relax(slack time.Duration) (*Relaxed, error) {
	// The slack read, set and kept across exec is this thread's.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	current, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("reading the timer slack: %w", err)
	}
	passed, relaxedBefore := os.LookupEnv(envOriginal)
	if relaxedBefore {
		if err := os.Unsetenv(envOriginal); err != nil {
			return nil, fmt.Errorf("clearing %s: %w", envOriginal, err)
		}
	}
	if time.Duration(current) >= slack {
		r := &Relaxed{relaxed: current, original: current}
		if n, err := strconv.Atoi(passed); relaxedBefore && err == nil && n > 0 {
			r.original = n
		}
		return r, nil
	}
	if relaxedBefore {
		// Executed again already, yet the slack did not hold: going round
		// once more would not help.
		return nil, fmt.Errorf("the timer slack is %v after setting it to %v", time.Duration(current), slack)
	}
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(slack), 0, 0, 0); err != nil {
		return nil, fmt.Errorf("setting the timer slack: %w", err)
	}
	env := append(os.Environ(), envOriginal+"="+strconv.Itoa(current))
	// /proc/self/exe, not the path we were started by: it is this
	// program even when an upgrade has replaced the file since.
	err = unix.Exec("/proc/self/exe", os.Args, env)
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(current), 0, 0, 0)
	return nil, fmt.Errorf("executing the program again with a coarser timer slack: %w", err)
}

func (r *Relaxed) startWithOriginal(start func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(r.original), 0, 0, 0); err != nil {
		return start()
	}
	// Put back before the thread is unlocked: another goroutine may run
	// on it next.
	defer unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(r.relaxed), 0, 0, 0) //nolint:errcheck // it was set a moment ago
	return start()
}
