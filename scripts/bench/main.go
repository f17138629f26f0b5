// Command bench compares buildslave with Buildbot's Python reference worker
// (buildbot-worker) on the same real master: it starts one throwaway
// master on loopback ports and both workers side by side, each reaching
// the master through a delay proxy (one-way delay D each way, order kept),
// runs the same builds on each, one at a time, at every D, and prints for
// every build the wall time, the throughput, and the worker process's CPU
// time and peak resident memory, with the ratios Python/Go, and the
// workers' idle memory.
//
// The builds: a FileDownload and a FileUpload of a large random file, a
// DirectoryUpload of a tree of small files, a no-op shell command, a shell
// step writing a large log, and (at D = 0 only) a FileDownload of a very
// large file, to see memory stay bounded. The upload and the directory
// upload (and, at D = 0, the log) run again over msgpack_experimental_v7,
// on a second pair of workers (no download there: the 3.7 master
// discards what it reads, so downloads arrive empty). Every transfer is checked by
// sha256. It is a measurement, not a test: it fails only if something
// does not run or a transfer comes out wrong.
//
// Usage (what `make bench` runs after building the binary):
//
//	go run ./scripts/bench -buildslave bin/buildslave [-delays 0,10,25] [-log-mb 5] [-transfer-mb 32] [-files 200] [-big-mb 1024]
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
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/buildslave/buildslave/internal/mastertest"
)

type options struct {
	bin         string
	sizes       benchSizes
	delays      []time.Duration
	runs        int // per worker and build at D = 0
	delayedRuns int // per worker and build at D > 0
	only        string
	oursOnly    bool
	against     string // a second buildslave binary in the reference's place
	files       string // where the files are, for the table
}

func main() {
	var o options
	flag.StringVar(&o.bin, "buildslave", "bin/buildslave", "path of the buildslave binary to measure")
	logMB := flag.Int("log-mb", 5, "size of the shell step's log, in MiB")
	transferMB := flag.Int("transfer-mb", 32, "size of the uploaded and the downloaded file, in MiB")
	flag.IntVar(&o.sizes.files, "files", 200, "number of files in the uploaded directory (0.5 to 4 KiB each)")
	bigMB := flag.Int("big-mb", 1024, "size of the download measured for memory at D = 0, in MiB (0: none)")
	delays := flag.String("delays", "0,10,25", "one-way delays D of the proxy, in milliseconds, comma-separated")
	flag.IntVar(&o.runs, "runs", 11, "run each build this many times per worker at D = 0; the table shows medians")
	flag.IntVar(&o.delayedRuns, "delayed-runs", 3, "run each build but the download this many times per worker at D > 0")
	flag.StringVar(&o.only, "only", "", "run only the builds whose key (download, upload, dirupload, noop, log, bigdownload, msgpack-log, msgpack-upload, msgpack-dirupload; msgpack for all three) is in this comma-separated list")
	flag.BoolVar(&o.oursOnly, "ours-only", false, "measure buildslave only, not the Python worker (for tuning)")
	flag.StringVar(&o.against, "against", "", "measure this buildslave binary in the Python worker's place: an A/B comparison of two builds, same master, same run (for tuning)")
	timeout := flag.Duration("timeout", 30*time.Minute, "give up after this long")
	flag.Parse()
	o.sizes.logBytes = *logMB << 20
	o.sizes.transferBytes = int64(*transferMB) << 20
	o.sizes.bigBytes = int64(*bigMB) << 20
	var err error
	if o.delays, err = parseDelays(*delays); err != nil || flag.NArg() > 0 || *logMB <= 0 || *transferMB <= 0 ||
		*bigMB < 0 || o.sizes.files <= 0 || o.runs <= 0 || o.delayedRuns <= 0 {
		fmt.Fprintln(os.Stderr, "bench: bad arguments", err)
		flag.Usage()
		os.Exit(2)
	}

	// The transfers' files on the master, each worker's copies, and the
	// 1 GiB download's, with room to spare.
	o.files = useMemoryForFiles(4*o.sizes.transferBytes + 3*o.sizes.bigBytes + 1<<30)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	err = run(ctx, os.Stdout, o)
	cancel()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseDelays(s string) ([]time.Duration, error) {
	var ds []time.Duration
	for f := range strings.SplitSeq(s, ",") {
		ms, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || ms < 0 {
			return nil, fmt.Errorf("bad delay %q", f)
		}
		ds = append(ds, time.Duration(ms*float64(time.Millisecond)))
	}
	if len(ds) == 0 {
		return nil, fmt.Errorf("no delays")
	}
	return ds, nil
}

// run does the benchmark, printing progress and the table to out. Whatever
// happens, it stops the workers, the proxy and the master before returning.
func run(ctx context.Context, out io.Writer, o options) (err error) {
	bin, err := filepath.Abs(o.bin)
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

	scenarios := benchScenarios(dir, o.sizes)
	if o.only != "" {
		keep := strings.Split(o.only, ",")
		var sel []scenario
		for _, s := range scenarios {
			for _, k := range keep {
				k = strings.TrimSpace(k)
				if s.setup || s.key == k || (k == "msgpack" && s.protocol == msgpackProtocol) {
					sel = append(sel, s)
					break
				}
			}
		}
		scenarios = sel
	}
	refLabel, refProgram := pyLabel, mastertest.ReferenceWorkerProgram
	if o.against != "" {
		if refProgram, err = filepath.Abs(o.against); err != nil {
			return err
		}
		refLabel = againstLabel
	}
	// A pair of workers for each protocol that the builds chosen use.
	var workers []*worker
	for _, p := range mastertest.Protocols {
		if !usesProtocol(scenarios, p) {
			continue
		}
		suffix := ""
		if p != "pb" {
			suffix = "-mp"
		}
		pair := []*worker{
			{label: goLabel, name: "go-worker" + suffix, program: bin, password: rand.Text(), dir: filepath.Join(dir, "go-worker"+suffix), protocol: p},
			{label: refLabel, name: "py-worker" + suffix, program: refProgram, password: rand.Text(), dir: filepath.Join(dir, "py-worker"+suffix), protocol: p},
		}
		if o.oursOnly {
			pair = pair[:1]
		}
		workers = append(workers, pair...)
	}
	if len(workers) == 0 {
		return fmt.Errorf("-only %q: no build to measure", o.only)
	}
	if err := writeRandomFile(filepath.Join(dir, downloadSource), o.sizes.transferBytes); err != nil {
		return fmt.Errorf("creating the file to download: %w", err)
	}
	if o.sizes.bigBytes > 0 && selected(scenarios, "bigdownload") {
		if err := writeRandomFile(filepath.Join(dir, bigDownloadSource), o.sizes.bigBytes); err != nil {
			return fmt.Errorf("creating the large file to download: %w", err)
		}
	}

	fmt.Fprintln(out, "==> starting a Buildbot master on 127.0.0.1")
	specs := make([]mastertest.WorkerSpec, len(workers))
	for i, w := range workers {
		specs[i] = mastertest.WorkerSpec{Name: w.name, Password: w.password}
	}
	cfg, builders := masterConfig(dir, workers, scenarios)
	m, err := mastertest.New(ctx, mastertest.Options{
		Workers:         specs,
		Builders:        cfg,
		ForceSchedulers: builders,
	})
	if err != nil {
		return err
	}
	defer m.Close()
	// One delay proxy per protocol, all at the same delay.
	proxies := make(map[string]*delayProxy)
	for _, w := range workers {
		if proxies[w.protocol] == nil {
			p, err := startDelayProxy(m.WorkerAddr(w.protocol), w.protocol == "pb")
			if err != nil {
				return err
			}
			defer p.Close()
			proxies[w.protocol] = p
		}
		w.proxy = proxies[w.protocol]
	}

	for _, w := range workers {
		fmt.Fprintf(out, "==> starting %s (%s)\n", w.title(), w.program)
		if err := w.start(ctx, m); err != nil {
			return err
		}
		defer w.stop(out)
	}
	// Idle: connected, nothing run yet, the start-up's garbage given time
	// to go.
	time.Sleep(idleSettle)
	idleStart := idleFigures(workers)

	for _, s := range scenarios {
		if !s.setup {
			continue
		}
		for _, w := range workers {
			fmt.Fprintf(out, "==> %s on %s (not measured)\n", s.title, w.title())
			if _, _, err := runBuild(ctx, m, s.builder(w)); err != nil {
				return err
			}
		}
	}

	var sections []section
	for _, d := range o.delays {
		for _, p := range proxies {
			p.SetDelay(d)
		}
		runs := o.runs
		if d > 0 {
			runs = o.delayedRuns
		}
		sec := section{delay: d, runs: runs}
		for _, s := range scenarios {
			if s.setup || (s.zeroDelayOnly && d > 0) {
				continue
			}
			// The workers take turns, so that a busy spell of the
			// machine does not fall on one of them only.
			var ws []*worker
			for _, w := range workers {
				if s.runsOn(w) {
					ws = append(ws, w)
				}
			}
			samples := make([][]row, len(ws))
			n := runs
			if s.once || (s.onceDelayed && d > 0) {
				n = 1
				sec.onceDelayed = sec.onceDelayed || s.onceDelayed
			}
			for i := range n {
				for j, w := range ws {
					fmt.Fprintf(out, "==> D=%v: %s on %s (%d/%d)", d, s.title, w.title(), i+1, n)
					r, err := measure(ctx, m, w, s)
					if err != nil {
						fmt.Fprintln(out)
						return err
					}
					fmt.Fprintf(out, ": wall %.3f s, worker CPU %.4f s\n", r.wall.Seconds(), r.cpu.Seconds())
					samples[j] = append(samples[j], r)
				}
			}
			for _, sm := range samples {
				sec.rows = append(sec.rows, summarize(sm))
			}
		}
		if len(sec.rows) > 0 { // none when only D = 0 builds are chosen
			sections = append(sections, sec)
		}
	}
	time.Sleep(idleSettle)
	idleEnd := idleFigures(workers)

	fmt.Fprintln(out)
	fmt.Fprintf(out, "one master, both workers through the same delay proxy (one-way delay D each way); files %s\n", o.files)
	if o.against != "" {
		fmt.Fprintf(out, "%s: %s\n", againstLabel, refProgram)
	}
	fmt.Fprintf(out, "wall and CPU: medians of the runs; peak RSS: the highest of the runs; ratios: %s / %s\n", refLabel, goLabel)
	for _, sec := range sections {
		once := ""
		if sec.onceDelayed && sec.delay > 0 {
			once = " (the download: 1)"
		}
		fmt.Fprintf(out, "\nD = %v (round trip %v), %d run(s) per build and worker%s\n", sec.delay, 2*sec.delay, sec.runs, once)
		printTable(out, sec.rows, goLabel, refLabel)
	}
	if usesProtocol(scenarios, msgpackProtocol) {
		fmt.Fprintf(out, "\n[msgpack]: over %s (the log at D = 0 only); no download row: the 3.7 master's update_read_file discards the data, so downloads arrive empty; update calls not counted (the frames are masked)\n", msgpackProtocol)
	}
	fmt.Fprintln(out)
	printIdle(out, workers, idleStart, idleEnd)
	return nil
}

// idleSettle is how long a worker is left alone before its idle memory is
// read.
const idleSettle = 5 * time.Second

// section is the table of one delay.
type section struct {
	delay       time.Duration
	runs        int
	onceDelayed bool // a build of the section ran once (scenario.onceDelayed)
	rows        []row
}

// The workers' labels in the table.
const (
	goLabel = "buildslave"
	pyLabel = "buildbot-worker"
	// the second buildslave binary of -against
	againstLabel = "against"
)

// usesProtocol says whether a measured build of scenarios runs over
// protocol.
func usesProtocol(scenarios []scenario, protocol string) bool {
	for _, s := range scenarios {
		if !s.setup && s.protocol == protocol {
			return true
		}
	}
	return false
}

func selected(scenarios []scenario, key string) bool {
	for _, s := range scenarios {
		if s.key == key {
			return true
		}
	}
	return false
}

// measure runs scenario s's build on w and takes w's figures around it.
func measure(ctx context.Context, m *mastertest.Master, w *worker, s scenario) (row, error) {
	proxy := w.proxy
	// Peak RSS is a high-water mark since the process started; resetting
	// it makes it this build's. Older kernels cannot, and then the figure
	// is the peak so far, which the table says.
	hwmReset := resetPeakRSS(w.pid) == nil
	before, err := cpuTime(w.pid)
	if err != nil {
		return row{}, err
	}
	up, down, updates := proxy.up.Load(), proxy.down.Load(), proxy.updates.Load()
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
	calls := proxy.updates.Load() - updates
	if !proxy.countCalls {
		calls = -1
	}
	if s.verify != nil {
		if err := s.verify(ctx, m, w, id); err != nil {
			return row{}, fmt.Errorf("%s on %s: %w", s.title, w.label, err)
		}
	}
	return row{
		scenario: s.title, worker: w.label, bytes: s.bytes, wall: wall, cpu: after - before,
		peakRSS: peak, peakSinceStart: !hwmReset,
		up: proxy.up.Load() - up, down: proxy.down.Load() - down, updates: calls,
	}, nil
}

// runBuild forces a build on builder, waits for it and returns how long it
// took as seen from here — from the force to the master's event saying
// the build finished — and the build's id.
func runBuild(ctx context.Context, m *mastertest.Master, builder string) (time.Duration, int, error) {
	events, err := subscribeFinishedBuilds(ctx, m.URL())
	if err != nil {
		return 0, 0, err
	}
	defer events.close()
	start := time.Now()
	res, err := m.Force(ctx, builder, nil)
	if err != nil {
		return 0, 0, err
	}
	if len(res.BuildRequests) != 1 {
		return 0, 0, fmt.Errorf("force %q: %d build requests, want 1", builder, len(res.BuildRequests))
	}
	var brid int
	for _, id := range res.BuildRequests {
		brid = id
	}
	id, err := events.waitFinished(ctx, brid)
	if err != nil {
		return 0, 0, err
	}
	wall := time.Since(start)
	b, err := m.Build(ctx, id)
	if err != nil {
		return 0, 0, err
	}
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
