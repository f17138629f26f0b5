//go:build linux

// Reads /proc, like the other leak checks.

package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/buildslave/buildslave/internal/mastertest"
	"github.com/buildslave/buildslave/internal/syncbuf"
)

// runForeground starts "start --nodaemon dir" with the extra descriptors
// given (the child's 3, 4, ...); the process is killed when the test ends.
func runForeground(t *testing.T, dir string, extra ...*os.File) (*exec.Cmd, *syncbuf.Buffer, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command(binary, "start", "--nodaemon", dir)
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.ExtraFiles = extra
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
	})
	return cmd, out, done
}

// killHard kills the worker with SIGKILL alone, as the OOM killer or a
// service manager out of patience does, and waits until it is gone.
func killHard(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	_ = cmd.Process.Signal(syscall.SIGKILL)
	for range 500 {
		if err := syscall.Kill(cmd.Process.Pid, 0); err != nil {
			return
		}
		if st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid)); bytes.Contains(st, []byte(") Z ")) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the worker survived SIGKILL")
}

// A build step's processes get only stdin, stdout and stderr, whatever
// the worker itself inherited (here descriptors 3 and 7), as with the
// Python worker: nor the connection to the master, whichever the protocol.
func TestBuildsDoNotInheritDescriptors(t *testing.T) {
	forEachProtocol(t, testBuildsDoNotInheritDescriptors)
}

func testBuildsDoNotInheritDescriptors(t *testing.T, protocol string) {
	m := mastertest.Start(t, mastertest.Options{
		Workers: []mastertest.WorkerSpec{{Name: "w1", Password: "s3cret-pw"}},
		Builders: `
f = util.BuildFactory()
f.addStep(steps.ShellCommand(name="fds", command=["sh", "-c", "for i in 3 4 5 6 7 8 9; do [ -e /proc/$$/fd/$i ] && echo $i; done; echo end"]))
c['builders'].append(util.BuilderConfig(name="b1", workernames=["w1"], factory=f))
`,
		ForceSchedulers: []string{"b1"},
	})
	dir := createOurs(t, m.WorkerAddr(protocol), "--protocol="+protocol)
	f3, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f3.Close()
	runForeground(t, dir, f3, nil, nil, nil, f3)
	ctx := testContext(t)
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	id := forceSuccess(t, ctx, m, "b1")
	if got := strings.TrimSpace(stepStdio(t, ctx, m, id, "fds").Stdout()); got != "end" {
		t.Errorf("a build step's open descriptors above 2: %q, want none", got)
	}
}

// A worker killed with -9 in the middle of a build leaves the build's
// processes running (nobody is there to kill them); started again, it
// finds and ends them, and says so in its log.
func TestKilledWorkerEndsLeftoverBuildOnRestart(t *testing.T) {
	forEachProtocol(t, testKilledWorkerEndsLeftoverBuildOnRestart)
}

func testKilledWorkerEndsLeftoverBuildOnRestart(t *testing.T, protocol string) {
	m, marker := markedBuildMaster(t, "BS_CRASH",
		`["sh", "-c", "test -e ../ran && exit 0; touch ../ran; sleep 1000 & sleep 1000 & wait"]`)
	dir := createOurs(t, m.WorkerAddr(protocol), "--protocol="+protocol)
	cmd, _, _ := runForeground(t, dir)
	ctx := testContext(t)
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	id, err := m.ForceBuild(ctx, "b1", nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the command's processes", func() bool { return len(processesWith(marker)) >= 3 })
	killHard(t, cmd)
	time.Sleep(200 * time.Millisecond)
	orphans := processesWith(marker)
	if len(orphans) < 3 {
		t.Fatalf("after kill -9 the build's processes are %v; the test needs them orphaned", orphans)
	}
	t.Logf("orphaned by kill -9: %v", orphans)

	_, out, _ := runForeground(t, dir)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := waitNoProcessWith(wctx, marker); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	waitFor(t, ctx, "the log to say what was ended", func() bool {
		return strings.Contains(out.String(), "of a command the previous run left running")
	})
	t.Logf("logged: %s", firstLineWith(out.String(), "previous run"))
	// The master retries the build lost with the worker; the step sees
	// it ran before and succeeds.
	if b, err := m.WaitBuild(ctx, id+1); err != nil || b.Results != mastertest.SUCCESS {
		t.Errorf("the retried build: %+v, %v", b, err)
	}
}

// A worker killed with -9 in the middle of a download leaves its hidden
// temporary file; started again, it removes it.
func TestKilledWorkerRemovesPartialDownloadOnRestart(t *testing.T) {
	forEachProtocol(t, testKilledWorkerRemovesPartialDownloadOnRestart)
}

func testKilledWorkerRemovesPartialDownloadOnRestart(t *testing.T, protocol string) {
	if protocol == msgpack {
		// Tried: the empty download ends at its first read, and no
		// temporary file is ever there to be left behind.
		t.Skip("no partial download to leave behind: " + downloadDefect)
	}
	m := mastertest.Start(t, mastertest.Options{
		Workers: []mastertest.WorkerSpec{{Name: "w1", Password: "s3cret-pw"}},
		Builders: `
f = util.BuildFactory()
f.addStep(steps.FileDownload(name="download", mastersrc="in/big.bin", workerdest="big.bin", blocksize=512))
c['builders'].append(util.BuilderConfig(name="b1", workernames=["w1"], workerbuilddir="bd", factory=f))
`,
		ForceSchedulers: []string{"b1"},
	})
	data := pseudoRandom(8<<20, 7)
	writeMasterFile(t, m, "in/big.bin", data)
	// The master's bytes come at 1 MiB/s: the pipelined download would
	// otherwise be over before the test could see its temporary file.
	slow := newThrottle(t, m.WorkerAddr(protocol), 1<<20)
	dir := createOurs(t, slow, "--protocol="+protocol)
	cmd, _, _ := runForeground(t, dir)
	ctx := testContext(t)
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	id, err := m.ForceBuild(ctx, "b1", nil)
	if err != nil {
		t.Fatal(err)
	}
	build := filepath.Join(dir, "bd", "build")
	partials := func() []string {
		names, _ := filepath.Glob(filepath.Join(build, ".big.bin.*"))
		return names
	}
	waitFor(t, ctx, "the download's temporary file", func() bool { return len(partials()) > 0 })
	killHard(t, cmd)
	left := partials()
	if len(left) == 0 {
		t.Fatal("no temporary file after kill -9; the test needs one")
	}
	t.Logf("left by kill -9: %v", left)

	runForeground(t, dir)
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	for _, p := range left {
		waitFor(t, ctx, "the restarted worker to remove "+p, func() bool { return !fileExists(p) })
	}
	// The master retries the build lost with the worker: this time the
	// whole file arrives, and nothing hidden stays beside it.
	if b, err := m.WaitBuild(ctx, id+1); err != nil || b.Results != mastertest.SUCCESS {
		t.Fatalf("the retried build: %+v, %v", b, err)
	}
	if got, err := os.ReadFile(filepath.Join(build, "big.bin")); err != nil || !bytes.Equal(got, data) {
		t.Errorf("the downloaded file: %d bytes, %v; want the %d sent", len(got), err, len(data))
	}
	if p := partials(); len(p) != 0 {
		t.Errorf("hidden files left: %v", p)
	}
}

// newThrottle is a TCP proxy on 127.0.0.1 to upstream that passes what
// upstream sends at about rate bytes a second (and the other way at full
// speed), and returns its address. Its connections end with the test.
func newThrottle(t *testing.T, upstream string, rate int) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			down, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				down.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, down, up)
			mu.Unlock()
			go func() {
				_, _ = io.Copy(up, down)
				up.Close()
			}()
			go func() {
				defer down.Close()
				const chunk = 16 << 10
				buf := make([]byte, chunk)
				for {
					n, err := up.Read(buf)
					if n > 0 {
						if _, werr := down.Write(buf[:n]); werr != nil {
							return
						}
						time.Sleep(time.Duration(n) * time.Second / time.Duration(rate))
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

func firstLineWith(text, substr string) string {
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, substr) {
			return line
		}
	}
	return ""
}

// SIGTERM asks for a graceful shutdown; if the master is then restarted
// (the connection ends mid-shutdown) the worker does not reconnect and run
// on: it exits, cleanly, having ended the build's processes.
func TestSIGTERMThenMasterRestartExits(t *testing.T) {
	forEachProtocol(t, testSIGTERMThenMasterRestartExits)
}

func testSIGTERMThenMasterRestartExits(t *testing.T, protocol string) {
	m, marker := markedBuildMaster(t, "BS_TERM", `["sleep", "300"]`)
	dir := createOurs(t, m.WorkerAddr(protocol), "--protocol="+protocol)
	cmd, out, exited := runForeground(t, dir)
	ctx := testContext(t)
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Force(ctx, "b1", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the build's command", func() bool { return len(processesWith(marker)) >= 1 })
	_ = cmd.Process.Signal(syscall.SIGTERM)
	waitFor(t, ctx, "the worker to ask the master for a shutdown", func() bool {
		return strings.Contains(out.String(), "Telling the master we want to shutdown")
	})
	m.Process().Kill()
	if err := m.StartAgain(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("the worker still runs a minute after SIGTERM and the master's restart\n%s", out)
	}
	if st := cmd.ProcessState; !st.Success() {
		t.Errorf("the worker exited %v; a service manager would count the stop as a failure\n%s", st, out)
	}
	t.Logf("logged: %s", firstLineWith(out.String(), "not reconnecting"))
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := waitNoProcessWith(wctx, marker); err != nil {
		t.Error(err)
	}
	if w, err := m.Worker(ctx, "w1"); err == nil && w.Connected() {
		t.Error("the worker connected to the restarted master")
	}
}
