// Command bench compares buildslave with Buildbot's Python reference worker
// (buildbot-worker) on the same real master: it starts one throwaway
// master on loopback ports and both workers side by side, runs the same
// builds on each, one at a time, and prints for every build the wall time
// and the worker process's CPU time and peak resident memory, with the
// ratios Python/Go.
//
// The builds, over each protocol (-protocols; by default PB and msgpack):
// a shell step writing a large log, a FileUpload of a large
// file (created on the worker by an unmeasured build first) and a
// FileDownload of a large file. It is a measurement, not a test: it fails
// only if something does not run.
//
// Usage (what `make bench` runs after building the binary):
//
//	go run ./scripts/bench -buildslave bin/buildslave [-log-mb 50] [-transfer-mb 100]
//
// It needs Linux: the figures come from /proc.
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

func main() {
	bin := flag.String("buildslave", "bin/buildslave", "path of the buildslave binary to measure")
	logMB := flag.Int("log-mb", 50, "size of the shell step's log, in MiB")
	transferMB := flag.Int("transfer-mb", 100, "size of the uploaded and the downloaded file, in MiB (0: no transfers)")
	runs := flag.Int("runs", 3, "run each build this many times per worker; the table shows medians")
	protocols := flag.String("protocols", "pb,"+msgpackProtocol, "the worker protocols to measure, comma-separated")
	timeout := flag.Duration("timeout", 30*time.Minute, "give up after this long")
	flag.Parse()
	if flag.NArg() > 0 || *logMB <= 0 || *transferMB < 0 || *runs <= 0 {
		fmt.Fprintln(os.Stderr, "bench: bad arguments")
		flag.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	err := run(ctx, os.Stdout, *bin, *logMB<<20, int64(*transferMB)<<20, *runs, strings.Split(*protocols, ","))
	cancel()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run does the benchmark, printing progress and the table to out. Whatever
// happens, it stops the workers and the master before returning.
func run(ctx context.Context, out io.Writer, bin string, logBytes int, transferBytes int64, runs int, protocols []string) (err error) {
	bin, err = filepath.Abs(bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("buildslave binary: %w (build it with `make build`)", err)
	}
	dir, err := os.MkdirTemp("", "buildslave-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// One pair of workers per protocol, each pair with its own builds.
	var groups []group
	var workers []*worker
	for _, p := range protocols {
		suffix, g := "", group{protocol: p}
		if p == msgpackProtocol {
			suffix = "-mp"
		} else if p != "pb" {
			return fmt.Errorf("unknown protocol %q (pb, %s)", p, msgpackProtocol)
		}
		g.workers = []*worker{
			{label: "buildslave", name: "go-worker" + suffix, program: bin, password: rand.Text(), dir: filepath.Join(dir, "go-worker"+suffix), protocol: p},
			{label: "buildbot-worker", name: "py-worker" + suffix, program: mastertest.ReferenceWorkerProgram, password: rand.Text(), dir: filepath.Join(dir, "py-worker"+suffix), protocol: p},
		}
		g.scenarios = scenariosOver(p, benchScenarios(dir, logBytes, transferBytes))
		groups = append(groups, g)
		workers = append(workers, g.workers...)
	}
	if transferBytes > 0 {
		if err := writeRandomFile(filepath.Join(dir, downloadSource), transferBytes); err != nil {
			return fmt.Errorf("creating the file to download: %w", err)
		}
	}

	fmt.Fprintln(out, "==> starting a Buildbot master on 127.0.0.1")
	specs := make([]mastertest.WorkerSpec, len(workers))
	for i, w := range workers {
		specs[i] = mastertest.WorkerSpec{Name: w.name, Password: w.password}
	}
	var cfg strings.Builder
	var builders []string
	fmt.Fprintf(&cfg, "import os\nBENCH_DIR = %s\n", mastertest.PyString(dir))
	for _, g := range groups {
		c, b := masterConfig(g.workers, g.scenarios)
		cfg.WriteString(c)
		builders = append(builders, b...)
	}
	m, err := mastertest.New(ctx, mastertest.Options{
		Workers:         specs,
		Builders:        cfg.String(),
		ForceSchedulers: builders,
	})
	if err != nil {
		return err
	}
	defer m.Close()

	for _, w := range workers {
		fmt.Fprintf(out, "==> starting %s (%s) over %s\n", w.label, w.program, w.protocol)
		if err := w.start(ctx, m); err != nil {
			return err
		}
		defer w.stop(out)
	}

	var rows []row
	for _, g := range groups {
		for _, s := range g.scenarios {
			if s.setup {
				for _, w := range g.workers {
					fmt.Fprintf(out, "==> %s on %s (not measured)\n", s.title, w.label)
					if _, _, err := runBuild(ctx, m, s.builder(w)); err != nil {
						return err
					}
				}
				continue
			}
			// The workers take turns, so that a busy spell of the machine
			// does not fall on one of them only.
			samples := make([][]row, len(g.workers))
			for i := range runs {
				for j, w := range g.workers {
					fmt.Fprintf(out, "==> %s on %s (%d/%d)\n", s.title, w.label, i+1, runs)
					r, err := measure(ctx, m, w, s)
					if err != nil {
						return err
					}
					samples[j] = append(samples[j], r)
				}
			}
			for _, sm := range samples {
				rows = append(rows, summarize(sm))
			}
		}
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "medians of %d runs; peak RSS is the highest of the runs\n", runs)
	printTable(out, rows, workers[0].label, workers[1].label)
	if transferBytes == 0 {
		fmt.Fprintln(out, "\n(transfers left out: -transfer-mb 0)")
	} else if len(groups) > 1 || groups[0].protocol == msgpackProtocol {
		fmt.Fprintln(out, "\n(no download over msgpack: the master discards the data it reads, so downloads arrive empty)")
	}
	return nil
}

// measure runs scenario s's build on w and takes w's figures around it.
func measure(ctx context.Context, m *mastertest.Master, w *worker, s scenario) (row, error) {
	// Peak RSS is a high-water mark since the process started; resetting
	// it makes it this build's. Older kernels cannot, and then the figure
	// is the peak so far, which the table says.
	hwmReset := resetPeakRSS(w.pid) == nil
	before, err := cpuTime(w.pid)
	if err != nil {
		return row{}, err
	}
	wall, id, err := runBuild(ctx, m, s.builder(w))
	if err != nil {
		return row{}, err
	}
	after, err := cpuTime(w.pid)
	if err != nil {
		return row{}, err
	}
	peak, err := peakRSS(w.pid)
	if err != nil {
		return row{}, err
	}
	if s.verify != nil {
		if err := s.verify(ctx, m, w, id); err != nil {
			return row{}, fmt.Errorf("%s on %s: %w", s.title, w.label, err)
		}
	}
	return row{scenario: s.title, worker: w.label, wall: wall, cpu: after - before, peakRSS: peak, peakSinceStart: !hwmReset}, nil
}

// runBuild forces a build on builder, waits for it and returns how long it
// took as seen from here — from the force to the build's completion,
// within the 100 ms the polling adds — and the build's id.
func runBuild(ctx context.Context, m *mastertest.Master, builder string) (time.Duration, int, error) {
	start := time.Now()
	id, err := m.ForceBuild(ctx, builder, nil)
	if err != nil {
		return 0, 0, err
	}
	b, err := m.WaitBuild(ctx, id)
	if err != nil {
		return 0, 0, err
	}
	wall := time.Since(start)
	if b.Results != mastertest.SUCCESS {
		return 0, 0, fmt.Errorf("build %d of %s finished with %s (%s)", b.Number, builder, b.Results, b.StateString)
	}
	return wall, id, nil
}

// writeRandomFile writes size random bytes to path: incompressible, so
// that no layer can make the transfer cheaper than its size.
func writeRandomFile(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
