//go:build linux

package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buildslave/buildslave/internal/mastertest"
	"github.com/buildslave/buildslave/internal/wine"
)

// The Windows build of the worker, run under Wine against the same real
// master as the other tests. Wine's processes are host processes, so the
// host's process list shows what a killed command left behind. Lean on
// purpose (Wine starts slowly): one master, one worker, a few builds of
// many steps.

var windowsSetup struct {
	once    sync.Once
	exe     string // the Windows binary, a host path
	breaker string // testdata/ctrlbreak built for Windows, a host path
	program string // a host script running it under Wine
	prefix  *wine.Prefix
	err     error
}

// windowsWorker returns the program that runs the Windows binary under
// Wine, with the environment it needs, building both once.
func windowsWorker(t *testing.T) (program string, prefix *wine.Prefix) {
	t.Helper()
	if err := wine.Check(); err != nil {
		t.Skip("cannot run the Windows build: ", err)
	}
	s := &windowsSetup
	s.once.Do(func() {
		dir := filepath.Dir(binary)
		s.exe = filepath.Join(dir, "buildslave.exe")
		build := exec.Command("go", "build", "-ldflags", "-X main.version=integration-test", "-o", s.exe, "../cmd/buildslave")
		build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			s.err = fmt.Errorf("building the Windows binary: %w\n%s", err, out)
			return
		}
		s.breaker = filepath.Join(dir, "ctrlbreak.exe")
		build = exec.Command("go", "build", "-o", s.breaker, "./testdata/ctrlbreak")
		build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			s.err = fmt.Errorf("building testdata/ctrlbreak: %w\n%s", err, out)
			return
		}
		if s.prefix, s.err = wine.Prepare(wine.DefaultDir()); s.err != nil {
			return
		}
		s.program = filepath.Join(dir, "buildslave-wine")
		script := fmt.Sprintf("#!/bin/sh\nexec wine '%s' \"$@\"\n", wine.WindowsPath(s.exe))
		s.err = os.WriteFile(s.program, []byte(script), 0o755)
	})
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.program, s.prefix
}

// noProcessWith fails the test if a host process's command line still
// holds marker a few seconds after a kill.
func noProcessWith(t *testing.T, marker string) {
	t.Helper()
	var left []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var err error
		if left, err = wine.HostProcesses(marker); err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 {
			return
		}
	}
	t.Errorf("processes left behind holding %q: %q", marker, left)
}

// windowsSteps: shell, env, workdir and output, then the kills, each with
// a tree (a `start /b` child beside the foreground one) whose processes
// carry the step's marker. The interrupted step is last: a cancelled step
// ends the build.
const windowsSteps = `
from twisted.internet import reactor

class InterruptedShell(steps.ShellCommand):
    def run(self):
        reactor.callLater(4, self.interrupt, "windows_test interrupt")
        return super().run()

def tree(marker, n):
    # Both pings outlive a TASKKILL /T of the top cmd.exe; each cmd.exe's
    # command line carries the marker.
    return ('start /b cmd /c "ping -n 120 127.0.0.%d & rem %s" & ping -n 120 127.0.0.%d & rem %s'
            % (n, marker, n + 1, marker))

def win_factory():
    f = util.BuildFactory()
    sh = lambda name, command, **kw: steps.ShellCommand(name=name, command=command, logEnviron=False, **kw)
    f.addStep(sh("argv", ["cmd", "/c", "echo hello& echo oops 1>&2"]))
    f.addStep(sh("string", "echo %FOO%& exit 3", env={"FOO": "from-env"},
        decodeRC={0: SUCCESS, 3: WARNINGS}))
    f.addStep(sh("envpath", "set path", env={"Path": ["C:\\bs-marker-dir", "${PATH}"]}))
    f.addStep(sh("mkbat", "mkdir tools & echo @echo from-bat> tools\\hello-bs.bat"))
    # An argv command is found in the PATH the master sends, as cmd.exe
    # finds it for the reference.
    f.addStep(sh("pathsearch", ["hello-bs"],
        env={"Path": [util.Interpolate("%(prop:builddir)s\\build\\tools"), "${PATH}"]}))
    f.addStep(sh("workdir", "cd", workdir="other dir"))
    f.addStep(sh("unicode", ["cmd", "/c", "echo h\u00e9llo \u20ac"]))
    f.addStep(sh("crlf", "echo one& echo two"))
    # The worker watches my.log while the command writes it, waits and
    # then deletes it: the watcher must not stand in the way. (Wine keeps
    # the name until the worker closes the file; Windows 10 does not.)
    f.addStep(sh("logfile", "echo first> my.log & echo second>> my.log & ping -n 4 127.0.0.1 >nul & del my.log && echo deleted",
        logfiles={"mylog": "my.log"}))
    f.addStep(sh("timeout", tree("BS-MARK-TIMEOUT", 11), timeout=3))
    f.addStep(sh("maxtime", tree("BS-MARK-MAXTIME", 13), maxTime=3))
    f.addStep(sh("sigterm", tree("BS-MARK-SIGTERM", 15), timeout=2, sigtermTime=2))
    # A process that survives CTRL_BREAK: the job ends it after sigtermTime.
    f.addStep(sh("ctrlbreak", [r"CTRLBREAK_EXE", "BS-MARK-CTRLBREAK"], timeout=2, sigtermTime=3))
    f.addStep(InterruptedShell(name="interrupt", command=tree("BS-MARK-INTERRUPT", 17), logEnviron=False))
    return f

def fs_factory(name, check):
    f = util.BuildFactory()
    f.addStep(steps.StringDownload("line1\nline2\r\n\u00e9\n", workerdest="dl/in.txt", name="download"))
    f.addStep(steps.StringDownload("deep\r\n", workerdest="tree/sub/d.txt", name="download2"))
    f.addStep(steps.FileUpload(workersrc="dl/in.txt", masterdest="uploaded-%s.txt" % name, name="upload"))
    f.addStep(steps.DirectoryUpload(workersrc="tree", masterdest="uploaded-tree-%s" % name, name="dirupload"))
    f.addStep(steps.MakeDirectory(name="mkdir", dir="build/made/deep"))
    f.addStep(steps.CopyDirectory(name="cpdir", src="build/tree", dest="build/copy"))
    f.addStep(steps.RemoveDirectory(name="rmdir", dir="build/tree"))
    f.addStep(steps.FileExists(name="exists", file="build/copy/sub/d.txt"))
    f.addStep(steps.FileExists(name="exists_missing", file="build/tree/sub/d.txt",
        flunkOnFailure=False, haltOnFailure=False))
    f.addStep(steps.ShellCommand(name="check", command=check, logEnviron=False))
    return f

c['builders'].append(util.BuilderConfig(name="win", workernames=["ww"], factory=win_factory()))
c['builders'].append(util.BuilderConfig(name="winfs", workernames=["ww"], workerbuilddir="fs",
    factory=fs_factory("win", "dir /b /s made copy")))
c['builders'].append(util.BuilderConfig(name="linfs", workernames=["lw"], workerbuilddir="fs",
    factory=fs_factory("lin", "find made copy")))
`

// TestWindowsWorkerUnderWine drives the Windows binary under Wine through
// create-worker, start, two builds of many steps and a graceful shutdown
// by shutdown.stamp; then starts it again and ends it with `stop` during
// a build, and shows its service definition.
func TestWindowsWorkerUnderWine(t *testing.T) {
	forEachProtocol(t, testWindowsWorkerUnderWine)
}

func testWindowsWorkerUnderWine(t *testing.T, protocol string) {
	program, prefix := windowsWorker(t)
	m := mastertest.Start(t, mastertest.Options{
		Workers: []mastertest.WorkerSpec{{Name: "ww", Password: "win-pass"}, {Name: "lw", Password: "lin-pass"}},
		Builders: "from buildbot.process.results import SUCCESS, WARNINGS\n" +
			strings.ReplaceAll(windowsSteps, "CTRLBREAK_EXE", wine.WindowsPath(windowsSetup.breaker)),
		ForceSchedulers: []string{"win", "winfs", "linfs"},
	})
	w := mastertest.RunWorker(t, m, mastertest.WorkerConfig{
		Program:    program,
		Dir:        filepath.Join(t.TempDir(), "win worker"), // a space, as in C:\Program Files
		Name:       "ww",
		Password:   "win-pass",
		Protocol:   protocol,
		CreateArgs: []string{"--allow-shutdown=file"},
		Env:        prefix.Env(),
		// Wine's cmd.exe writes the ANSI code page, 1252 here, to a pipe
		// (real Windows' writes the console's OEM one).
		BeforeStart: func(dir string) error {
			return replaceInFile(filepath.Join(dir, "buildslave.cfg"), `#unicode_encoding = "utf-8"`, `unicode_encoding = "cp1252"`)
		},
	})
	ctx := testContext(t)
	if _, err := m.WaitWorkerConnected(ctx, "ww"); err != nil {
		t.Fatalf("%v\n%s", err, w.LogTail(30))
	}

	t.Run("shell", func(t *testing.T) { windowsShellBuild(t, m, w) })
	t.Run("files", func(t *testing.T) {
		lw := startOursOver(t, m, protocol, "lw", "lin-pass")
		if _, err := m.WaitWorkerConnected(ctx, "lw"); err != nil {
			t.Fatal(err)
		}
		windowsFilesBuild(t, ctx, m, w, lw, protocol)
	})
	t.Run("shutdown.stamp", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(w.Dir, "shutdown.stamp"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := w.Wait(ctx); err != nil {
			t.Fatalf("the worker's exit: %v\n%s", err, w.LogTail(30))
		}
		if log := readLog(w); !strings.Contains(log, "shutdown.stamp was touched") {
			t.Errorf("the log does not say why the worker stopped:\n%s", log)
		}
	})
	t.Run("stop", func(t *testing.T) { windowsStop(t, ctx, m, w.Dir, program, prefix) })
	t.Run("service install --dry-run", func(t *testing.T) {
		cmd := exec.Command(program, "service", "install", "--dry-run", w.Dir)
		cmd.Env = prefix.Env()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		for _, want := range []string{"Service name:", `buildslave.exe service run`, `"` + wine.WindowsPath(w.Dir) + `"`} {
			if !strings.Contains(string(out), want) {
				t.Errorf("the definition lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(string(out), "win-pass") {
			t.Errorf("the definition shows the password:\n%s", out)
		}
	})
}

func windowsShellBuild(t *testing.T, m *mastertest.Master, w *mastertest.WorkerProcess) {
	build, got := runShellBuild(t, m, "win")
	if build.Results != mastertest.CANCELLED {
		t.Errorf("build result %v, want cancelled (the last step is interrupted)", build.Results)
	}
	want := map[string]struct {
		result         mastertest.Result
		stdout, stderr string
		header         []string
	}{
		"argv":       {mastertest.SUCCESS, "hello\n", "oops \n", []string{"argv: [b'cmd', b'/c', b'echo hello& echo oops 1>&2']", "exit code 0"}},
		"string":     {mastertest.WARNINGS, "from-env\n", "", []string{"argv: b'echo %FOO%& exit 3'", "exit code 3"}},
		"workdir":    {mastertest.SUCCESS, wine.WindowsPath(w.Dir) + `\win\other dir` + "\n", "", []string{`\win\other dir (timeout 1200 secs)`}},
		"unicode":    {mastertest.SUCCESS, "h\u00e9llo \u20ac\n", "", nil},
		"pathsearch": {mastertest.SUCCESS, "from-bat\n", "", nil},
		"crlf":       {mastertest.SUCCESS, "one\ntwo\n", "", nil},
		"logfile":    {mastertest.SUCCESS, "deleted\n", "", nil},
		"timeout":    {mastertest.FAILURE, "", "", []string{"command timed out: 3 seconds without output", "attempting to kill", "exit code 1"}},
		"maxtime":    {mastertest.FAILURE, "", "", []string{"command timed out: 3 seconds elapsed", "attempting to kill", "exit code 1"}},
		"sigterm":    {mastertest.FAILURE, "", "", []string{"command timed out: 2 seconds without output", "attempting to kill", "exit code 1"}},
		"interrupt":  {mastertest.CANCELLED, "", "", []string{"command interrupted, attempting to kill", "exit code 1"}},
	}
	for name, wnt := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("step %s missing", name)
			continue
		}
		if g.result != wnt.result {
			t.Errorf("step %s: result %v, want %v", name, g.result, wnt.result)
		}
		if g.stdio.Stdout() != wnt.stdout || g.stdio.Stderr() != wnt.stderr {
			t.Errorf("step %s: stdout %q, stderr %q; want %q, %q", name, g.stdio.Stdout(), g.stdio.Stderr(), wnt.stdout, wnt.stderr)
		}
		for _, h := range wnt.header {
			if !strings.Contains(g.stdio.Header(), h) {
				t.Errorf("step %s: header lacks %q:\n%s", name, h, g.stdio.Header())
			}
		}
	}
	// The master's Path replaced the worker's PATH: one variable, not two.
	var paths []string
	for _, line := range strings.Split(got["envpath"].stdio.Stdout(), "\n") {
		if name, _, _ := strings.Cut(line, "="); strings.EqualFold(name, "path") {
			paths = append(paths, line)
		}
	}
	if len(paths) != 1 || !strings.HasPrefix(paths[0], `Path=C:\bs-marker-dir;C:\windows`) {
		t.Errorf("path variables seen by the command: %q; want one, the master's, expanded", paths)
	}
	for _, marker := range []string{"BS-MARK-TIMEOUT", "BS-MARK-MAXTIME", "BS-MARK-SIGTERM", "BS-MARK-CTRLBREAK", "BS-MARK-INTERRUPT"} {
		noProcessWith(t, marker)
	}
	for n := 11; n <= 18; n++ {
		noProcessWith(t, fmt.Sprintf("ping -n 120 127.0.0.%d", n))
	}
}

// windowsFilesBuild runs the transfers and filesystem commands on the
// Windows worker and on our Linux worker, and compares what the master
// stored: the same results, the same logs once base directories and path
// separators are normalised, the same bytes uploaded.
func windowsFilesBuild(t *testing.T, ctx context.Context, m *mastertest.Master, ww, lw *mastertest.WorkerProcess, protocol string) {
	win := fsBuild(t, ctx, m, "winfs", ww.Dir)
	lin := fsBuild(t, ctx, m, "linfs", lw.Dir)
	if len(win) != len(lin) || len(win) < 10 {
		t.Errorf("steps: Windows %d, Linux %d", len(win), len(lin))
	}
	for name, l := range lin {
		if name == "check" {
			continue
		}
		if w := win[name]; w != l {
			t.Errorf("step %s differs:\nWindows %q\nLinux   %q", name, w, l)
		}
	}
	for _, f := range []string{"uploaded-%s.txt", "uploaded-tree-%s/sub/d.txt"} {
		w, werr := os.ReadFile(filepath.Join(m.Dir(), fmt.Sprintf(f, "win")))
		l, lerr := os.ReadFile(filepath.Join(m.Dir(), fmt.Sprintf(f, "lin")))
		if werr != nil || lerr != nil || string(w) != string(l) {
			t.Errorf("uploaded %s: Windows %q (%v), Linux %q (%v)", f, w, werr, l, lerr)
		}
	}
	// Bytes unchanged both ways: no line ending is translated.
	want := "line1\nline2\r\n\u00e9\n"
	if protocol == msgpack {
		expectMasterDefect(t, downloadDefect)
		want = ""
	}
	if got, _ := os.ReadFile(filepath.Join(m.Dir(), "uploaded-win.txt")); string(got) != want {
		t.Errorf("uploaded file %q, want %q", got, want)
	}
	check := win["check"] // separators normalised to /
	for _, want := range []string{"BASEDIR/fs/build/made/deep\n", "BASEDIR/fs/build/copy/sub/d.txt\n"} {
		if !strings.Contains(check, want) {
			t.Errorf("dir /s lacks %q:\n%s", want, check)
		}
	}
	if strings.Contains(check, "/build/tree") {
		t.Errorf("rmdir left the tree:\n%s", check)
	}
}

// fsBuild forces a build of builder and returns, by step, its result and
// its stdio log (if any) with basedir and path separators normalised.
func fsBuild(t *testing.T, ctx context.Context, m *mastertest.Master, builder, basedir string) map[string]string {
	t.Helper()
	id, err := m.ForceBuild(ctx, builder, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.WaitBuild(ctx, id); err != nil {
		t.Fatal(err)
	}
	steps, err := m.Steps(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range steps {
		if s.Name == "worker_preparation" {
			continue
		}
		text := s.Results.String()
		logs, err := m.Logs(ctx, s.StepID)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range logs {
			if l.Slug != "stdio" {
				continue
			}
			stdio, err := m.StdioLog(ctx, l.LogID)
			if err != nil {
				t.Fatal(err)
			}
			logText := stdio.Header() + "|" + stdio.Stdout() + "|" + stdio.Stderr()
			logText = normalize(normalize(logText, wine.WindowsPath(basedir)), basedir)
			text += "\n" + strings.ReplaceAll(logText, `\`, "/")
		}
		out[s.Name] = text
	}
	return out
}

// windowsStop starts the worker in dir again, forces a build whose
// command runs long, and stops the worker with `stop`: the worker ends,
// and with it (its job object) the command's processes.
func windowsStop(t *testing.T, ctx context.Context, m *mastertest.Master, dir, program string, prefix *wine.Prefix) {
	start := exec.Command(program, "start", "--nodaemon", dir)
	start.Env = prefix.Env()
	start.Dir = dir
	if err := start.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = start.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = start.Process.Kill()
		<-exited
	})
	if _, err := m.WaitWorkerConnected(ctx, "ww"); err != nil {
		t.Fatal(err)
	}
	id, err := m.ForceBuild(ctx, "win", nil)
	if err != nil {
		t.Fatal(err)
	}
	// The build's first long step is "timeout": wait until its tree runs.
	waitFor(t, ctx, "the timeout step's processes", func() bool {
		found, _ := wine.HostProcesses("ping -n 120 127.0.0.12")
		return len(found) > 0
	})
	stop := exec.Command(program, "stop", dir)
	stop.Env = prefix.Env()
	if out, err := stop.CombinedOutput(); err != nil {
		t.Fatalf("stop: %v\n%s", err, out)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatal("the worker still runs after stop")
	}
	noProcessWith(t, "BS-MARK-TIMEOUT")
	noProcessWith(t, "ping -n 120 127.0.0.11")
	noProcessWith(t, "ping -n 120 127.0.0.12")
	// The master retries the build its worker lost; Debian's 3.7 master
	// cannot shut down while that build is still being wound up.
	if b, err := m.WaitBuild(ctx, id); err != nil || b.Results != mastertest.RETRY {
		t.Errorf("the build the worker was stopped in: %+v, %v; want retry", b, err)
	}
}
