// Command demo shows buildslave working against a real Buildbot master:
// it starts a throwaway master (Debian's buildbot package) on loopback
// ports, creates and starts a buildslave worker, forces a build, prints the
// result and the logs of every step, and stops everything again.
//
// Usage (what `make demo` runs after building the binary):
//
//	go run ./scripts/demo -buildslave bin/buildslave [-keep]
//
// It exits non-zero unless the build succeeded.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/buildslave/buildslave/internal/mastertest"
)

const (
	workerName = "demo-worker"
	builder    = "demo"
)

// builders is the demo's part of master.cfg.
const builders = `
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="hello",
    command="uname -a; echo hello from buildslave; ls -a"))
f.addStep(steps.ShellCommand(name="details",
    command=["sh", "-c", "echo \"building in $(pwd) as $(id -un)\"; echo 'this line went to stderr' >&2"]))
c['builders'].append(util.BuilderConfig(name="demo", workernames=["demo-worker"], factory=f))
`

func main() {
	bin := flag.String("buildslave", "bin/buildslave", "path of the buildslave binary to run as the worker")
	keep := flag.Bool("keep", false, "keep the master and worker directories for inspection")
	timeout := flag.Duration("timeout", 3*time.Minute, "give up after this long")
	protocol := flag.String("protocol", "pb", "the worker protocol: pb or msgpack_experimental_v7")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "demo: unexpected arguments %q\n", flag.Args())
		flag.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	err := run(ctx, os.Stdout, *bin, *keep, *protocol)
	cancel()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// run does the demo, printing to out. Whatever happens, it stops the worker
// and the master before returning.
func run(ctx context.Context, out io.Writer, bin string, keep bool, protocol string) (err error) {
	bin, err = filepath.Abs(bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("buildslave binary: %w (build it with `make build`)", err)
	}
	password := rand.Text()

	fmt.Fprintln(out, "==> starting a Buildbot master on 127.0.0.1")
	m, err := mastertest.New(ctx, mastertest.Options{
		Workers:         []mastertest.WorkerSpec{{Name: workerName, Password: password}},
		Builders:        builders,
		ForceSchedulers: []string{builder},
		Keep:            keep,
	})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := m.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	fmt.Fprintf(out, "    master in %s, workers connect to %s (PB) and %s (msgpack), REST API at %sapi/v2\n",
		m.Dir(), m.PBAddr(), m.MsgpackAddr(), m.URL())

	workDir, err := os.MkdirTemp("", "buildslave-demo-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(workDir)
	}
	basedir := filepath.Join(workDir, "worker")

	fmt.Fprintf(out, "==> %s create-worker -q --protocol=%s %s %s %s ****\n", bin, protocol, basedir, m.WorkerAddr(protocol), workerName)
	fmt.Fprintf(out, "==> %s start --nodaemon %s\n", bin, basedir)
	w, err := mastertest.StartWorker(ctx, m, mastertest.WorkerConfig{
		Program:  bin,
		Dir:      basedir,
		Name:     workerName,
		Password: password,
		Protocol: protocol,
	})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			fmt.Fprintf(out, "--- worker output ---\n%s--- worker twistd.log (tail) ---\n%s--- master twistd.log (tail) ---\n%s",
				w.Output(), w.LogTail(30), m.LogTail(30))
		}
		where(out, m, w, keep)
		if serr := w.Stop(mastertest.DefaultStopTimeout); serr != nil {
			fmt.Fprintln(out, "    warning:", serr)
		}
	}()

	fmt.Fprintln(out, "==> waiting for the worker to connect")
	if err := waitConnected(ctx, m, w); err != nil {
		return err
	}

	fmt.Fprintf(out, "==> forcing a build on builder %q\n", builder)
	buildID, err := m.ForceBuild(ctx, builder, nil)
	if err != nil {
		return err
	}
	b, err := m.WaitBuild(ctx, buildID)
	if err != nil {
		return err
	}
	if err := printBuild(ctx, out, m, b); err != nil {
		return err
	}
	if b.Results != mastertest.SUCCESS {
		return fmt.Errorf("build %d finished with %s (%s)", b.Number, b.Results, b.StateString)
	}
	return nil
}

// waitConnected waits for the worker to attach, giving up at once if the
// worker process exits.
func waitConnected(ctx context.Context, m *mastertest.Master, w *mastertest.WorkerProcess) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	go func() {
		select {
		case <-w.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	_, err := m.WaitWorkerConnected(ctx, workerName)
	if err != nil && w.Exited() {
		return fmt.Errorf("worker exited before connecting (%v)", w.Err()) //nolint:errorlint // nil after a clean exit, which %w would garble
	}
	return err
}

// printBuild prints the build's result and every step with its logs.
func printBuild(ctx context.Context, out io.Writer, m *mastertest.Master, b mastertest.Build) error {
	fmt.Fprintf(out, "\nbuild #%d: %s (%s)\n", b.Number, strings.ToUpper(b.Results.String()), b.StateString)
	steps, err := m.Steps(ctx, b.BuildID)
	if err != nil {
		return err
	}
	for _, s := range steps {
		fmt.Fprintf(out, "\n  step %d %q: %s (%s)\n", s.Number, s.Name, s.Results, s.StateString)
		logs, err := m.Logs(ctx, s.StepID)
		if err != nil {
			return err
		}
		for _, l := range logs {
			fmt.Fprintf(out, "    log %q:\n", l.Name)
			if l.Type != "s" {
				text, err := m.LogText(ctx, l.LogID)
				if err != nil {
					return err
				}
				for line := range strings.Lines(text) {
					fmt.Fprintf(out, "      %s\n", strings.TrimSuffix(line, "\n"))
				}
				continue
			}
			stdio, err := m.StdioLog(ctx, l.LogID)
			if err != nil {
				return err
			}
			printStdio(out, stdio)
		}
	}
	fmt.Fprintln(out)
	return nil
}

// printStdio prints a stdio log with its stream marked on every line. The
// environment dump in the header (lines indented by two spaces) is left
// out: it is long and the same for every step.
func printStdio(out io.Writer, l mastertest.StdioLog) {
	marks := map[byte]string{mastertest.StreamStdout: "out", mastertest.StreamStderr: "err", mastertest.StreamHeader: "hdr"}
	skipped := 0
	for _, line := range l.Lines {
		if line.Stream == mastertest.StreamHeader && strings.HasPrefix(line.Text, "  ") {
			skipped++
			continue
		}
		if skipped > 0 {
			fmt.Fprintf(out, "      hdr |   (%d variables, not shown here)\n", skipped)
			skipped = 0
		}
		mark := marks[line.Stream]
		if mark == "" {
			mark = "???"
		}
		fmt.Fprintf(out, "      %s | %s\n", mark, line.Text)
	}
}

// where tells the user where the evidence is.
func where(out io.Writer, m *mastertest.Master, w *mastertest.WorkerProcess, keep bool) {
	fmt.Fprintln(out, "==> where to look")
	fmt.Fprintf(out, "    master basedir:  %s (master.cfg, twistd.log)\n", m.Dir())
	fmt.Fprintf(out, "    worker basedir:  %s\n", w.Dir)
	fmt.Fprintf(out, "    worker log:      %s\n", w.LogPath())
	if !keep {
		fmt.Fprintln(out, "    (these are removed on exit; run with -keep to keep them)")
	}
	fmt.Fprintln(out, "==> stopping the worker and the master")
}
