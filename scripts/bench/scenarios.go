package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/buildslave/buildslave/internal/mastertest"
)

// Files of the transfer builds: the download's source in the bench
// directory, the upload's target beside it (one per worker), and the file
// on the worker, in its build directory.
const (
	downloadSource = "download-source.bin"
	workerFile     = "big.bin"

	workerPlaceholder = "@WORKER@"
)

// scenario is one kind of build, run on each worker.
type scenario struct {
	key   string // builder names are key-workername
	title string
	setup bool // prepares a later scenario; not measured
	// steps is the Python source of the factory's steps, with
	// workerPlaceholder for the worker's name (to keep the workers' files
	// apart on the master).
	steps string
	// verify checks that the build did what it claims, so that a fast
	// figure cannot come from a broken build; nil for none.
	verify func(ctx context.Context, m *mastertest.Master, w *worker, buildID int) error
}

func (s scenario) builder(w *worker) string { return s.key + "-" + w.name }

// benchScenarios lists the builds, in the order they run. dir is the
// bench's directory on the master's side.
func benchScenarios(dir string, logBytes int, transferBytes int64) []scenario {
	// 40 characters a line, so the master's line handling is exercised
	// as much as the byte count.
	line := strings.Repeat("buildslave benchmark ", 2)[:39]
	list := []scenario{{
		key:   "log",
		title: fmt.Sprintf("shell step, %d MiB log", logBytes>>20),
		steps: fmt.Sprintf(`f.addStep(steps.ShellCommand(name="log", logEnviron=False,
    command="yes '%s' | head -c %d"))`, line, logBytes),
		verify: func(ctx context.Context, m *mastertest.Master, _ *worker, id int) error {
			l, err := m.StepLog(ctx, id, "log", "stdio")
			if err != nil {
				return err
			}
			if want := logBytes / (len(line) + 1); l.NumLines < want {
				return fmt.Errorf("the log has %d lines, want at least %d", l.NumLines, want)
			}
			return nil
		},
	}}
	if transferBytes == 0 {
		return list
	}
	return append(list,
		scenario{
			key:   "prepare",
			title: fmt.Sprintf("creating the %d MiB file to upload", transferBytes>>20),
			setup: true,
			steps: fmt.Sprintf(`f.addStep(steps.ShellCommand(name="create", logEnviron=False,
    command="head -c %d /dev/urandom > %s"))`, transferBytes, workerFile),
		},
		scenario{
			key:   "upload",
			title: fmt.Sprintf("FileUpload, %d MiB", transferBytes>>20),
			steps: fmt.Sprintf(`f.addStep(steps.FileUpload(workersrc=%s, masterdest=os.path.join(BENCH_DIR, "uploaded-`+workerPlaceholder+`.bin")))`,
				mastertest.PyString(workerFile)),
			verify: func(_ context.Context, _ *mastertest.Master, w *worker, _ int) error {
				return checkSize(filepath.Join(dir, "uploaded-"+w.name+".bin"), transferBytes)
			},
		},
		scenario{
			key:   "download",
			title: fmt.Sprintf("FileDownload, %d MiB", transferBytes>>20),
			steps: fmt.Sprintf(`f.addStep(steps.FileDownload(mastersrc=os.path.join(BENCH_DIR, %s), workerdest="downloaded.bin"))`,
				mastertest.PyString(downloadSource)),
			verify: func(_ context.Context, _ *mastertest.Master, w *worker, _ int) error {
				return checkSize(filepath.Join(w.buildDir(), "downloaded.bin"), transferBytes)
			},
		},
	)
}

// msgpackProtocol is the name of Buildbot's second worker protocol.
const msgpackProtocol = "msgpack_experimental_v7"

// group is one protocol's pair of workers and their builds.
type group struct {
	protocol  string
	workers   []*worker
	scenarios []scenario
}

// scenariosOver adapts the scenarios to a protocol: over msgpack the
// titles say so, and the download is left out, since the master discards
// what it reads (every download arrives empty, on either worker).
func scenariosOver(protocol string, list []scenario) []scenario {
	if protocol != msgpackProtocol {
		return list
	}
	var out []scenario
	for _, s := range list {
		if s.key == "download" {
			continue
		}
		s.title += " [msgpack]"
		out = append(out, s)
	}
	return out
}

// masterConfig is the builders' part of master.cfg: a builder per scenario
// and worker, each worker in a build directory of its own. It returns the
// builder names too.
func masterConfig(workers []*worker, scenarios []scenario) (string, []string) {
	var b strings.Builder
	var names []string
	for _, s := range scenarios {
		for _, w := range workers {
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

// checkSize checks that the file at path has size bytes.
func checkSize(path string, size int64) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Size() != size {
		return fmt.Errorf("%s has %d bytes, want %d", path, fi.Size(), size)
	}
	return nil
}
