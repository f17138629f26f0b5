package mastertest

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Test helpers: thin wrappers over the error-returning API that fail the
// test on error and register cleanups.

// SkipIfNoBuildbot skips the test unless Buildbot's master and worker
// commands are on $PATH.
func SkipIfNoBuildbot(t testing.TB) {
	t.Helper()
	for _, prog := range []string{"buildbot", ReferenceWorkerProgram} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("skipping: %s is not installed (Debian: apt-get install buildbot buildbot-worker)", prog)
		}
	}
}

// Start starts a master for the test (skipping the test if Buildbot is not
// installed) and stops it when the test ends. If the test failed, the tail
// of the master's twistd.log is logged.
func Start(t testing.TB, opts Options) *Master {
	t.Helper()
	SkipIfNoBuildbot(t)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout(opts))
	defer cancel()
	m, err := New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("master %s twistd.log (tail):\n%s", m.Dir(), m.LogTail(logTailLines))
		}
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m
}

func startTimeout(opts Options) time.Duration {
	if opts.StartTimeout > 0 {
		return opts.StartTimeout
	}
	return DefaultStartTimeout
}

// workerStartTimeout bounds create-worker, which only writes a few files
// but pays Python's start-up cost.
const workerStartTimeout = 60 * time.Second

// RunWorker creates and starts a worker for the test in a directory of its
// own (unless cfg.Dir is set) and stops it when the test ends. If the test
// failed, the tail of the worker's twistd.log is logged. A worker that has
// to be killed because it ignored SIGTERM is logged, not failed.
func RunWorker(t testing.TB, m *Master, cfg WorkerConfig) *WorkerProcess {
	t.Helper()
	if cfg.Dir == "" {
		// Created before the worker starts, so removed after it stops.
		cfg.Dir = filepath.Join(t.TempDir(), "worker")
	}
	ctx, cancel := context.WithTimeout(context.Background(), workerStartTimeout)
	defer cancel()
	w, err := StartWorker(ctx, m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Stop(DefaultStopTimeout); err != nil {
			t.Log(err)
		}
		if t.Failed() {
			t.Logf("worker %s twistd.log (tail):\n%s\noutput:\n%s", w.Dir, w.LogTail(logTailLines), w.Output())
		}
	})
	return w
}

// RunReferenceWorker is RunWorker for buildbot-worker.
func RunReferenceWorker(t testing.TB, m *Master, name, password string) *WorkerProcess {
	t.Helper()
	return RunWorker(t, m, WorkerConfig{Name: name, Password: password})
}
