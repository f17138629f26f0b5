package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/buildslave/buildslave/internal/mastertest"
)

// worker is one of the two workers measured.
type worker struct {
	label    string // for the table
	name     string // the worker's name on the master
	program  string // buildslave or buildbot-worker
	password string
	dir      string      // its basedir
	protocol string      // "pb" or msgpackProtocol
	proxy    *delayProxy // the one it reaches the master through

	proc *mastertest.WorkerProcess
	pid  int // the process doing the work
}

// start creates the worker in its dir, pointed at its proxy, starts it in
// the foreground and waits for it to connect. The process measured is the one started: both
// `buildslave start --nodaemon` and `buildbot-worker start --nodaemon`
// run the worker in-process (the latter runs twistd as a function), which
// the pid file the worker writes confirms.
func (w *worker) start(ctx context.Context, m *mastertest.Master) error {
	p, err := mastertest.StartWorker(ctx, m, mastertest.WorkerConfig{
		Program: w.program, Dir: w.dir, Name: w.name, Password: w.password,
		MasterAddr: w.proxy.Addr(), Protocol: w.protocol,
	})
	if err != nil {
		return err
	}
	w.proc, w.pid = p, p.Pid()
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := m.WaitWorkerConnected(cctx, w.name); err != nil {
		return fmt.Errorf("%s did not connect: %w\n%s", w.label, err, p.LogTail(20))
	}
	if pid, err := pidFile(filepath.Join(w.dir, "twistd.pid")); err == nil && pid != w.pid {
		return fmt.Errorf("%s: started process %d, but twistd.pid says %d: measuring the wrong process", w.label, w.pid, pid)
	}
	return nil
}

// title is the worker's name for people: its label, and its protocol if
// not PB.
func (w *worker) title() string {
	if w.protocol == "pb" {
		return w.label
	}
	return w.label + " (" + w.protocol + ")"
}

func (w *worker) stop(out io.Writer) {
	if w.proc == nil {
		return
	}
	if err := w.proc.Stop(mastertest.DefaultStopTimeout); err != nil {
		fmt.Fprintf(out, "    warning: stopping %s: %v\n", w.label, err)
	}
}

// buildDir is where the worker runs builder's steps: its workdir "build"
// in the builder's directory.
func (w *worker) buildDir() string {
	return filepath.Join(w.dir, builderDir(w), "build")
}

func pidFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}
