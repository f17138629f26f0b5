package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/buildslave/buildslave/internal/mastertest"
)

// Files of the transfer builds: the downloads' sources in the bench
// directory, the uploads' targets beside them (one per worker), and the
// files on the worker, in its build directory.
const (
	downloadSource    = "download-source.bin"
	bigDownloadSource = "big-download-source.bin"
	workerFile        = "big.bin"
	workerDir         = "tree"
	downloadedFile    = "downloaded.bin"
	bigDownloadedFile = "downloaded-big.bin"

	workerPlaceholder = "@WORKER@"
)

// scenario is one kind of build, run on each worker.
type scenario struct {
	key   string // builder names are key-workername
	title string
	setup bool // prepares a later scenario; not measured
	// bytes is how much the build moves, for MiB/s; 0 for none.
	bytes int64
	// zeroDelayOnly runs the build at D = 0 only (the 1 GiB download, a
	// memory figure that the Python worker needs minutes for when delayed;
	// the msgpack builds).
	zeroDelayOnly bool
	// once runs the build once per worker, whatever -runs says (the 1 GiB
	// download: a memory figure, and a long build).
	once bool
	// onceDelayed runs the build once per worker at D > 0, whatever
	// -delayed-runs says: the Python worker's 32 MiB download takes 47 s
	// at D = 10 ms and 107 s at 25, and its ratio is far from any target.
	onceDelayed bool
	// protocol is that of the workers the build runs on; "" for a setup
	// build, which runs on every worker.
	protocol string
	// steps is the Python source of the factory's steps, with
	// workerPlaceholder for the worker's name (to keep the workers' files
	// apart on the master).
	steps string
	// verify checks that the build did what it claims, so that a fast
	// figure cannot come from a broken build; nil for none.
	verify func(ctx context.Context, m *mastertest.Master, w *worker, buildID int) error
}

func (s scenario) builder(w *worker) string { return s.key + "-" + w.name }

// runsOn says whether the build is one of w's.
func (s scenario) runsOn(w *worker) bool { return s.protocol == "" || s.protocol == w.protocol }

// msgpackProtocol is the name of Buildbot's second worker protocol.
const msgpackProtocol = "msgpack_experimental_v7"

// benchSizes are the sizes the builds use.
type benchSizes struct {
	logBytes      int
	transferBytes int64
	files         int   // of the directory upload
	bigBytes      int64 // of the memory download; 0 leaves it out
}

// benchScenarios lists the builds, in the order they run. dir is the
// bench's directory on the master's side.
func benchScenarios(dir string, sz benchSizes) []scenario {
	// 40 characters a line, so the master's line handling is exercised
	// as much as the byte count.
	line := strings.Repeat("buildslave benchmark ", 2)[:39]
	list := []scenario{
		{
			key:   "prepare",
			title: fmt.Sprintf("creating the %d MiB file and the %d-file tree to upload", sz.transferBytes>>20, sz.files),
			setup: true,
			steps: fmt.Sprintf(`f.addStep(steps.ShellCommand(name="create", logEnviron=False,
    command=%s))`, mastertest.PyString(fmt.Sprintf("head -c %d /dev/urandom > %s && %s", sz.transferBytes, workerFile, treeCommand(sz.files)))),
		},
		{
			key:         "download",
			onceDelayed: true,
			title:       fmt.Sprintf("FileDownload, %d MiB", sz.transferBytes>>20),
			bytes:       sz.transferBytes,
			steps: fmt.Sprintf(`f.addStep(steps.FileDownload(mastersrc=os.path.join(BENCH_DIR, %s), workerdest=%s))`,
				mastertest.PyString(downloadSource), mastertest.PyString(downloadedFile)),
			verify: func(_ context.Context, _ *mastertest.Master, w *worker, _ int) error {
				return sameFile(filepath.Join(dir, downloadSource), filepath.Join(w.buildDir(), downloadedFile), false)
			},
		},
		{
			key:   "upload",
			title: fmt.Sprintf("FileUpload, %d MiB", sz.transferBytes>>20),
			bytes: sz.transferBytes,
			steps: fmt.Sprintf(`f.addStep(steps.FileUpload(workersrc=%s, masterdest=os.path.join(BENCH_DIR, "uploaded-`+workerPlaceholder+`.bin")))`,
				mastertest.PyString(workerFile)),
			verify: func(_ context.Context, _ *mastertest.Master, w *worker, _ int) error {
				return sameFile(filepath.Join(w.buildDir(), workerFile), filepath.Join(dir, "uploaded-"+w.name+".bin"), true)
			},
		},
		{
			key:   "dirupload",
			title: fmt.Sprintf("DirectoryUpload, %d files", sz.files),
			steps: fmt.Sprintf(`f.addStep(steps.DirectoryUpload(workersrc=%s, masterdest=os.path.join(BENCH_DIR, "tree-`+workerPlaceholder+`")))`,
				mastertest.PyString(workerDir)),
			verify: func(_ context.Context, _ *mastertest.Master, w *worker, _ int) error {
				return sameTree(filepath.Join(w.buildDir(), workerDir), filepath.Join(dir, "tree-"+w.name))
			},
		},
		{
			key:   "noop",
			title: "no-op command",
			steps: `f.addStep(steps.ShellCommand(name="noop", logEnviron=False, command=["true"]))`,
		},
		{
			key:   "log",
			title: fmt.Sprintf("shell step, %d MiB log", sz.logBytes>>20),
			bytes: int64(sz.logBytes),
			steps: fmt.Sprintf(`f.addStep(steps.ShellCommand(name="log", logEnviron=False,
    command="yes '%s' | head -c %d"))`, line, sz.logBytes),
			verify: func(ctx context.Context, m *mastertest.Master, _ *worker, id int) error {
				l, err := m.StepLog(ctx, id, "log", "stdio")
				if err != nil {
					return err
				}
				if want := sz.logBytes / (len(line) + 1); l.NumLines < want {
					return fmt.Errorf("the log has %d lines, want at least %d", l.NumLines, want)
				}
				return nil
			},
		},
	}
	if sz.bigBytes > 0 {
		list = append(list, scenario{
			key:           "bigdownload",
			title:         fmt.Sprintf("FileDownload, %d MiB", sz.bigBytes>>20),
			bytes:         sz.bigBytes,
			zeroDelayOnly: true,
			once:          true,
			steps: fmt.Sprintf(`f.addStep(steps.FileDownload(mastersrc=os.path.join(BENCH_DIR, %s), workerdest=%s))`,
				mastertest.PyString(bigDownloadSource), mastertest.PyString(bigDownloadedFile)),
			verify: func(_ context.Context, _ *mastertest.Master, w *worker, _ int) error {
				p := filepath.Join(w.buildDir(), bigDownloadedFile)
				err := sameFile(filepath.Join(dir, bigDownloadSource), p, false)
				os.Remove(p) // a GiB per worker is enough disk to hold
				return err
			},
		})
	}
	for i := range list {
		if !list[i].setup {
			list[i].protocol = "pb"
		}
	}
	// Over msgpack: the log at D = 0, the upload and the directory upload
	// at every delay (their window of writes in flight shows there). No
	// download: the 3.7 master's update_read_file discards the data it
	// reads, so every download arrives empty, on either worker.
	for _, s := range list {
		if s.key == "log" || s.key == "upload" || s.key == "dirupload" {
			s.key = "msgpack-" + s.key
			s.title += " [msgpack]"
			s.protocol = msgpackProtocol
			s.zeroDelayOnly = s.key == "msgpack-log"
			list = append(list, s)
		}
	}
	return list
}

// treeCommand is a shell command making workerDir: n files of 0.5 to
// 4 KiB of random bytes, in a few subdirectories, the same sizes on every
// run.
func treeCommand(n int) string {
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	fmt.Fprintf(&b, "rm -rf %s && mkdir -p", workerDir)
	for d := range 4 {
		fmt.Fprintf(&b, " %s/d%d", workerDir, d)
	}
	for i := range n {
		fmt.Fprintf(&b, " && head -c %d /dev/urandom > %s/d%d/f%d", 512+rng.IntN(3585), workerDir, i%4, i)
	}
	return b.String()
}

// masterConfig is the builders' part of master.cfg: a builder per scenario
// and worker, each worker in a build directory of its own. It returns the
// builder names too.
func masterConfig(dir string, workers []*worker, scenarios []scenario) (string, []string) {
	var b strings.Builder
	fmt.Fprintf(&b, "import os\nBENCH_DIR = %s\n", mastertest.PyString(dir))
	var names []string
	for _, s := range scenarios {
		for _, w := range workers {
			if !s.runsOn(w) {
				continue
			}
			name := s.builder(w)
			names = append(names, name)
			fmt.Fprintf(&b, "\nf = util.BuildFactory()\n%s\n", strings.ReplaceAll(s.steps, workerPlaceholder, w.name))
			fmt.Fprintf(&b, "c['builders'].append(util.BuilderConfig(name=%s, workernames=[%s], workerbuilddir=%s, factory=f))\n",
				mastertest.PyString(name), mastertest.PyString(w.name), mastertest.PyString(builderDir(w)))
		}
	}
	return b.String(), names
}

// builderDir is the worker's directory for the bench's builders, relative
// to its basedir: all its builders share it, as the transfers need.
func builderDir(w *worker) string { return filepath.Join("bench", w.name) }

// sameFile checks that got has the bytes of want, by sha256; with remove,
// got is removed afterwards so that the next run cannot pass on its
// leftovers.
func sameFile(want, got string, remove bool) error {
	w, err := fileSum(want)
	if err != nil {
		return err
	}
	g, err := fileSum(got)
	if remove {
		os.Remove(got)
	}
	if err != nil {
		return err
	}
	if w != g {
		return fmt.Errorf("%s: sha256 %x, want %x (that of %s)", got, g, w, want)
	}
	return nil
}

func fileSum(path string) ([32]byte, error) {
	var sum [32]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, err
	}
	h.Sum(sum[:0])
	return sum, nil
}

// sameTree checks that got holds the same regular files as want, by
// relative name and sha256, and removes got afterwards.
func sameTree(want, got string) error {
	defer os.RemoveAll(got)
	w, err := treeSums(want)
	if err != nil {
		return err
	}
	g, err := treeSums(got)
	if err != nil {
		return err
	}
	if len(w) == 0 {
		return fmt.Errorf("%s holds no files", want)
	}
	for name, sum := range w {
		if g[name] != sum {
			return fmt.Errorf("%s: %s missing or different", got, name)
		}
	}
	if len(g) != len(w) {
		extra := slices.Sorted(func(yield func(string) bool) {
			for n := range g {
				if _, ok := w[n]; !ok && !yield(n) {
					return
				}
			}
		})
		return fmt.Errorf("%s: files that %s does not have: %v", got, want, extra)
	}
	return nil
}

func treeSums(root string) (map[string][32]byte, error) {
	sums := make(map[string][32]byte)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		sums[rel], err = fileSum(p)
		return err
	})
	return sums, err
}
