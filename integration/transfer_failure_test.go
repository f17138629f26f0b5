//go:build linux

// Named pipes and prlimit(1), for a master that stalls and a file size
// limit that makes writes fail halfway.

package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/buildslave/buildslave/internal/mastertest"
)

// failureSteps are the transfers the failure tests cut short: a download
// to a destination that already holds a file, and an upload of a file the
// build makes first.
const failureSteps = `
f = util.BuildFactory()
f.addStep(steps.FileDownload(name="download", mastersrc="in/payload.bin",
    workerdest="dl/payload.bin"))
c['builders'].append(util.BuilderConfig(name="dl", workernames=["gw"],
    workerbuilddir="bd", factory=f))

f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="make", command=["sh", "-c",
    "head -c 33554432 /dev/urandom > up.bin"]))
f.addStep(steps.FileUpload(name="upload", workersrc="up.bin", masterdest="out/up.bin"))
c['builders'].append(util.BuilderConfig(name="ul", workernames=["gw"],
    workerbuilddir="bd", factory=f))
`

// failureMaster starts a master with failureSteps; wrap, if not empty,
// runs it under `prlimit wrap...`.
func failureMaster(t *testing.T, wrap ...string) *mastertest.Master {
	opts := mastertest.Options{
		Workers:         []mastertest.WorkerSpec{{Name: "gw", Password: "go-pass"}},
		Builders:        failureSteps,
		ForceSchedulers: []string{"dl", "ul"},
	}
	if len(wrap) > 0 {
		opts.Buildbot = prlimitWrapper(t, "buildbot", wrap...)
	}
	return mastertest.Start(t, opts)
}

// prlimitWrapper writes a script that runs program under prlimit with the
// given limits, for a program whose process (and children) should run
// within them.
func prlimitWrapper(t *testing.T, program string, limits ...string) string {
	t.Helper()
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) is not installed")
	}
	if !filepath.IsAbs(program) {
		if program, err = exec.LookPath(program); err != nil {
			t.Skip(err)
		}
	}
	path := filepath.Join(t.TempDir(), "limited-"+filepath.Base(program))
	script := fmt.Sprintf("#!/bin/sh\nexec %s %s -- %s \"$@\"\n", prlimit, strings.Join(limits, " "), program)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// downloadDir is where the dl builder's download lands on worker w; it
// holds an older payload.bin that a failed download must leave alone.
func prepareDownloadDir(t *testing.T, w *mastertest.WorkerProcess) string {
	t.Helper()
	dir := filepath.Join(w.Dir, "bd", "build", "dl")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "payload.bin"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkOnlyOldPayload checks that dir holds payload.bin as it was and
// nothing else: no partial download, no temporary file.
func checkOnlyOldPayload(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "payload.bin" {
			fi, _ := e.Info()
			t.Errorf("left behind in %s: %s (%d bytes)", dir, e.Name(), fi.Size())
		}
	}
	if got, err := os.ReadFile(filepath.Join(dir, "payload.bin")); err != nil || string(got) != "old" {
		t.Errorf("payload.bin: %d bytes (%v), want the old one", len(got), err)
	}
}

// stepLogsText is every log of the build's step, concatenated.
func stepLogsText(t *testing.T, m *mastertest.Master, buildID int, step string) string {
	t.Helper()
	ctx := testContext(t)
	steps, err := m.Steps(ctx, buildID)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, s := range steps {
		if s.Name != step {
			continue
		}
		logs, err := m.Logs(ctx, s.StepID)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range logs {
			text, err := m.LogContents(ctx, l.LogID)
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString(text)
		}
	}
	return b.String()
}

// The master dies while a pipelined download is halfway: the worker drops
// the partial file, keeps the old destination and stays up.
func TestDownloadMasterKilledLeavesNoPartialFile(t *testing.T) {
	forEachProtocol(t, testDownloadMasterKilledLeavesNoPartialFile)
}

func testDownloadMasterKilledLeavesNoPartialFile(t *testing.T, protocol string) {
	if protocol == msgpack {
		t.Skip("no download is ever halfway: " + downloadDefect)
	}
	m := failureMaster(t)
	ours := startOursOver(t, m, protocol, "gw", "go-pass")
	ctx := testContext(t)
	if _, err := m.WaitWorkerConnected(ctx, "gw"); err != nil {
		t.Fatal(err)
	}
	dir := prepareDownloadDir(t, ours)
	// A named pipe as the source: the master reads what the test writes
	// and then blocks in the middle of the file.
	fifo := filepath.Join(m.Dir(), "in", "payload.bin")
	if err := os.MkdirAll(filepath.Dir(fifo), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	// More than the worker's window of reads in flight (8 MiB): the
	// master answers a batch of reads only once it has served them all,
	// and a read it blocks in must not be in the first batch.
	const sent = 24 << 20
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0) // until the master opens it
		if err != nil {
			return
		}
		_, _ = f.Write(pseudoRandom(sent, 7))
		<-ctx.Done()
		f.Close()
	}()
	if _, err := m.Force(ctx, "dl", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the first MiBs of the download on the worker", func() bool {
		return tempDownloadBytes(dir) >= 1<<20
	})
	m.Process().Kill()

	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	waitFor(t, wctx, "the partial download to go", func() bool { return tempDownloadBytes(dir) < 0 })
	checkOnlyOldPayload(t, dir)
	if ours.Exited() {
		t.Errorf("the worker exited: %v", ours.Err())
	}
}

// tempDownloadBytes is the size of the download's temporary file in dir,
// -1 if there is none.
func tempDownloadBytes(dir string) int64 {
	matches, _ := filepath.Glob(filepath.Join(dir, ".payload.bin.*"))
	if len(matches) == 0 {
		return -1
	}
	fi, err := os.Stat(matches[0])
	if err != nil {
		return -1
	}
	return fi.Size()
}

// A disk that fills up during a download (the worker's file size limit,
// which fails the write with EFBIG as a full disk does with ENOSPC): the
// step fails with the reason, and no partial file is left.
func TestDownloadDiskFullFailsTheStep(t *testing.T) {
	forEachProtocol(t, testDownloadDiskFullFailsTheStep)
}

func testDownloadDiskFullFailsTheStep(t *testing.T, protocol string) {
	if protocol == msgpack {
		t.Skip("no byte of a download is ever written: " + downloadDefect)
	}
	m := failureMaster(t)
	writeMasterFile(t, m, "in/payload.bin", pseudoRandom(32<<20, 8))
	ours := mastertest.RunWorker(t, m, mastertest.WorkerConfig{
		Program:  prlimitWrapper(t, binary, fmt.Sprintf("--fsize=%d", 8<<20)),
		Name:     "gw",
		Password: "go-pass",
		Protocol: protocol,
	})
	ctx := testContext(t)
	if _, err := m.WaitWorkerConnected(ctx, "gw"); err != nil {
		t.Fatal(err)
	}
	dir := prepareDownloadDir(t, ours)
	got := runBuild(t, m, "dl")
	if got.steps["download"] != mastertest.EXCEPTION && got.steps["download"] != mastertest.FAILURE {
		t.Errorf("download step %v, want a failure", got.steps["download"])
	}
	if text := stepLogsText(t, m, got.build.BuildID, "download"); !strings.Contains(strings.ToLower(text), "file too large") {
		t.Errorf("the step's logs do not say why:\n%s", text)
	}
	checkOnlyOldPayload(t, dir)
}

// A master whose writes fail halfway through an upload (its file size
// limit): the first refused write fails the step with the master's
// reason, the writer is closed, and the master keeps no partial file;
// over both protocols, whose writes are pipelined.
func TestUploadRefusedWriteFailsTheStep(t *testing.T) {
	forEachProtocol(t, testUploadRefusedWriteFailsTheStep)
}

func testUploadRefusedWriteFailsTheStep(t *testing.T, protocol string) {
	m := failureMaster(t, fmt.Sprintf("--fsize=%d", 4<<20))
	startOursOver(t, m, protocol, "gw", "go-pass")
	if _, err := m.WaitWorkerConnected(testContext(t), "gw"); err != nil {
		t.Fatal(err)
	}
	got := runBuild(t, m, "ul")
	if got.steps["upload"] != mastertest.EXCEPTION && got.steps["upload"] != mastertest.FAILURE {
		t.Errorf("upload step %v, want a failure", got.steps["upload"])
	}
	if text := stepLogsText(t, m, got.build.BuildID, "upload"); !strings.Contains(strings.ToLower(text), "file too large") {
		t.Errorf("the step's logs do not say why:\n%s", text)
	}
	out := filepath.Join(m.Dir(), "out")
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		fi, _ := e.Info()
		t.Errorf("the master kept %s (%d bytes) of a failed upload", e.Name(), fi.Size())
	}
}
