// Package timerslack runs the worker's own threads with a coarse timer
// slack, and the processes it starts with the slack it was given.
//
// The Go runtime's monitor thread (sysmon) sleeps 20 µs at a time while
// any goroutine runs or sits in a system call, and the kernel may end
// such a sleep up to the thread's timer slack late: 50 µs unless someone
// chose otherwise. A worker is busy in many short bursts (a request from
// the master, a chunk of a command's output), so these wake-ups were a
// fifth of the CPU a no-op build costs it. With a slack of a millisecond
// the monitor wakes a few times per burst instead of dozens. Nothing the
// worker does needs its timers finer: keepalives are seconds apart, and
// a socket or pipe that becomes ready wakes its reader at once whatever
// the slack.
//
// A thread sets its own slack only (another's needs CAP_SYS_NICE), and
// the monitor thread starts before any of our code runs, so the slack
// must be the program's from its first instruction: Relax sets it on the
// calling thread and executes the program again, and every thread of the
// new image inherits it. A child process inherits the slack of the thread
// that starts it, so Start puts the original slack back on that thread
// for the fork: builds run with the timers they would have had under the
// Python worker.
package timerslack
