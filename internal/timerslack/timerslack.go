package timerslack

// Relaxed is what Relax leaves: the slack the worker runs with and the one
// the processes it starts must get. The zero value and nil start processes
// as they are.
type Relaxed struct {
	relaxed  int // nanoseconds; 0: nothing to put back
	original int
}

// Start runs start, which must start a process (exec.Cmd.Start and the
// like fork on the calling thread), with the thread's timer slack put back
// to the one the worker was given, so that the child inherits that one.
func (r *Relaxed) Start(start func() error) error {
	if r == nil || r.original == 0 || r.original == r.relaxed {
		return start()
	}
	return r.startWithOriginal(start)
}
