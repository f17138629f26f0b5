package command

import (
	"io"
	"os"
	"os/exec"
	"sync"
)

// readChunk is how much output one read takes from a pipe.
const readChunk = 32 * 1024

// childSpec describes a process to start.
type childSpec struct {
	path    string   // the executable, already looked up
	argv    []string // argv[0] included
	cmdLine string   // Windows only: the raw command line, if not built from argv
	dir     string
	env     []string
	stdin   []byte // written to stdin, which is then closed
	pty     bool   // run under a pseudo-terminal (see pty_unix.go)
	// start runs the fork (Environment.StartProcess); nil runs it as is
	start func(func() error) error
}

// startCmd starts cmd through spec.start.
func (spec childSpec) startCmd(cmd *exec.Cmd) error {
	if spec.start == nil {
		return cmd.Start()
	}
	return spec.start(cmd.Start)
}

// child is a started process and the read ends of its output pipes. Under
// a pseudo-terminal there is one stream, the terminal's master side, as
// stdout; stderr is nil.
//
// Its pipes are plain os.Pipe files handed to the process rather than the
// ones exec.Cmd would make, so that waiting for the process does not wait
// for its output: like the reference, we first see the process end and
// then read until every holder of the pipes (grandchildren included) has
// closed them, and a kill can stop the reading at once.
type child struct {
	cmd    *exec.Cmd
	tree   processTree // the job object holding it, on Windows
	stdout *os.File
	stderr *os.File

	stdinW    *os.File // nil without initial stdin
	stdinOnce sync.Once

	exited  chan struct{} // closed once the process has been waited for
	state   *os.ProcessState
	waitErr error
}

// startChild starts the process described by spec. Its standard input is
// the given bytes, or at EOF at once when there are none; under a
// pseudo-terminal it is the terminal.
func startChild(spec childSpec) (*child, error) {
	if spec.pty {
		return startPTYChild(spec)
	}
	var files []*os.File // every end still open, closed on failure
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	pipe := func() (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		if err == nil {
			files = append(files, r, w)
		}
		return r, w, err
	}
	outR, outW, err := pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := pipe()
	if err != nil {
		closeAll()
		return nil, err
	}
	cmd := &exec.Cmd{
		Path:   spec.path,
		Args:   spec.argv,
		Env:    spec.env,
		Dir:    spec.dir,
		Stdout: outW,
		Stderr: errW,
	}
	var inW *os.File
	if len(spec.stdin) > 0 {
		var inR *os.File
		if inR, inW, err = pipe(); err != nil {
			closeAll()
			return nil, err
		}
		cmd.Stdin = inR
	}
	setProcAttr(cmd, spec)
	if err := spec.startCmd(cmd); err != nil {
		closeAll()
		return nil, err
	}
	tree, err := adoptTree(cmd)
	if err != nil {
		closeAll()
		return nil, err
	}
	// The child has its copies; ours of its ends would keep the pipes open.
	outW.Close()
	errW.Close()
	if cmd.Stdin != nil {
		cmd.Stdin.(*os.File).Close()
	}

	c := &child{cmd: cmd, tree: tree, stdout: outR, stderr: errR, stdinW: inW, exited: make(chan struct{})}
	if inW != nil {
		go c.writeStdin(spec.stdin)
	}
	go c.wait()
	return c, nil
}

// wait waits for the started process and records how it ended. It ends
// when the process does: if even the kill procedure cannot end the
// process, the goroutine running it lives as long as the process.
func (c *child) wait() {
	c.waitErr = c.cmd.Wait()
	c.state = c.cmd.ProcessState
	close(c.exited)
}

// writeStdin feeds the initial input and closes stdin. A process that
// exits without reading makes the write fail, which is fine.
func (c *child) writeStdin(data []byte) {
	_, _ = c.stdinW.Write(data)
	c.closeStdin()
}

// closeStdin closes our end of stdin, also ending a write that a process
// which never reads has blocked.
func (c *child) closeStdin() {
	if c.stdinW != nil {
		c.stdinOnce.Do(func() { c.stdinW.Close() })
	}
}

// stopReading closes the read ends, ending the readers even while some
// process still holds the write ends.
func (c *child) stopReading() {
	c.stdout.Close()
	if c.stderr != nil {
		c.stderr.Close()
	}
}

// readStream reads r until it ends or is closed, handing each chunk to
// emit and signalling activity (without blocking) after each.
func readStream(r io.Reader, emit func(string), activity chan<- struct{}) {
	buf := make([]byte, readChunk)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			emit(string(buf[:n]))
			select {
			case activity <- struct{}{}:
			default:
			}
		}
		if err != nil {
			// The end of the output, the pipe closed by stopReading, or a
			// read error: in each case there is nothing more to read.
			return
		}
	}
}
