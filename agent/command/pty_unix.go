//go:build unix

// Pseudo-terminals exist only on POSIX systems; see pty_other.go for the
// rest, where usePTY is refused as the reference refuses it off POSIX.

package command

import (
	"fmt"
	"os/exec"
	"syscall"

	"github.com/creack/pty"
)

// ptySupported says whether commands can run under a pseudo-terminal here.
const ptySupported = true

// startPTYChild starts the process with a new pseudo-terminal as its
// standard input, output and error, as the reference's Twisted PTYProcess
// does: stderr merges into stdout, and the child's terminal output
// processing (\n → \r\n) applies. The terminal keeps its default size, as
// with the reference.
//
// The child becomes the leader of a new session whose controlling
// terminal is the PTY. A session leader also leads its own process group,
// so the kill procedure's signal to the group reaches the whole tree just
// as without a PTY.
func startPTYChild(spec childSpec) (*child, error) {
	master, tty, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("opening a pseudo-terminal: %w", err)
	}
	cmd := &exec.Cmd{
		Path:   spec.path,
		Args:   spec.argv,
		Env:    spec.env,
		Dir:    spec.dir,
		Stdin:  tty,
		Stdout: tty,
		Stderr: tty,
		// Ctty is a descriptor number in the child: its stdin, the tty.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0},
	}
	if err := spec.startCmd(cmd); err != nil {
		master.Close()
		tty.Close()
		return nil, err
	}
	// Our copy of the terminal side would keep it open after the child
	// and its descendants have closed theirs, and reading would never end.
	tty.Close()

	c := &child{cmd: cmd, stdout: master, exited: make(chan struct{})}
	go c.wait()
	return c, nil
}
