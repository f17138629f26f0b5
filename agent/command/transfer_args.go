package command

import (
	"fmt"
	"sync/atomic"

	"github.com/buildslave/buildslave/internal/pytext"
)

// maxBlockSize caps every block a transfer sends or asks for: banana, the
// PB framing, refuses strings longer than 640 KiB, so a larger blocksize
// from the master would otherwise break the connection.
const maxBlockSize = 655360

// intArg reads an integer argument; absent or None gives ok == false.
func intArg(args Args, key string) (n int64, ok bool, err error) {
	switch x := args[key].(type) {
	case nil:
		return 0, false, nil
	case int64:
		return x, true, nil
	case int:
		return int64(x), true, nil
	case bool:
		// Python's bool is an int; a master never sends one here, but
		// accepting it costs nothing.
		if x {
			return 1, true, nil
		}
		return 0, true, nil
	}
	return 0, false, fmt.Errorf("argument %q must be an integer, not %s", key, pytext.TypeName(args[key]))
}

// blockSizeArg reads the blocksize of a transfer, capped at maxBlockSize.
// A blocksize below 1 would never move a byte, so it is refused.
func blockSizeArg(args Args) (int, error) {
	n, ok, err := intArg(args, "blocksize")
	if err != nil {
		return 0, err
	}
	if !ok || n < 1 {
		return 0, fmt.Errorf("argument \"blocksize\" must be a positive integer, got %v", args["blocksize"])
	}
	return int(min(n, maxBlockSize)), nil
}

// budget is the maxsize limit of a transfer: how many more bytes may move.
type budget struct {
	limited bool
	left    int64
}

func budgetArg(args Args) (budget, error) {
	n, ok, err := intArg(args, "maxsize")
	if err != nil {
		return budget{}, err
	}
	return budget{limited: ok, left: n}, nil
}

// next is how many bytes the next block may carry, at most blocksize.
func (b *budget) next(blocksize int) int {
	if !b.limited || b.left >= int64(blocksize) {
		return blocksize
	}
	return int(max(b.left, 0))
}

func (b *budget) spend(n int) {
	if b.limited {
		b.left -= int64(n)
	}
}

// exhausted reports whether no byte may move any more.
func (b *budget) exhausted() bool { return b.limited && b.left <= 0 }

// stopper is the interrupt state of a command that checks for an interrupt
// between steps (blocks, files) rather than killing a process.
type stopper struct {
	asked   atomic.Bool // Interrupt was called
	stopped atomic.Bool // the command saw it and stopped early
}

// Interrupt asks the command to stop at its next step.
func (s *stopper) Interrupt(why string) { s.asked.Store(true) }

// Interrupted reports whether an interrupt cut the command short; one that
// arrives after the work is done changes nothing, so it does not count.
func (s *stopper) Interrupted() bool { return s.stopped.Load() }

// shouldStop reports whether an interrupt asks to stop now, and records
// that the command stopped early because of it.
func (s *stopper) shouldStop() bool {
	if s.asked.Load() {
		s.stopped.Store(true)
		return true
	}
	return false
}
