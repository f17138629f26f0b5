package mastertest

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
)

// ReferenceWorkerProgram is Buildbot's Python worker command.
const ReferenceWorkerProgram = "buildbot-worker"

// WorkerConfig describes a worker to create and run. Both buildbot-worker
// and buildslave take the same command lines:
//
//	PROGRAM create-worker -q [CreateArgs...] DIR HOST:PORT NAME PASSWORD
//	PROGRAM start --nodaemon DIR
type WorkerConfig struct {
	// Program is the worker executable; default ReferenceWorkerProgram.
	Program string
	// Dir is the worker's basedir; create-worker creates it if needed.
	Dir      string
	Name     string
	Password string
	// MasterAddr is the HOST:PORT the worker dials, for a worker that
	// reaches the master through a proxy; default the master's address
	// for Protocol.
	MasterAddr string
	// CreateArgs are extra create-worker options, e.g. "--keepalive=10".
	CreateArgs []string
	// Protocol is the worker protocol, one of Protocols; "" means PB. The
	// worker is created with --protocol and the port of that protocol.
	Protocol string
	// Env is the environment of both commands (and so of the build steps
	// the worker runs); nil means the current process's environment.
	Env []string
	// BeforeStart, if set, is called with the basedir between
	// create-worker and start, to edit the files create-worker wrote as a
	// user would.
	BeforeStart func(dir string) error
}

// WorkerProcess is a running worker.
type WorkerProcess struct {
	*Process
	// Dir is the worker's basedir, absolute.
	Dir string
}

// LogPath returns the path of the worker's twistd.log.
func (w *WorkerProcess) LogPath() string { return filepath.Join(w.Dir, "twistd.log") }

// LogTail returns the last n lines of the worker's twistd.log.
func (w *WorkerProcess) LogTail(n int) string { return fileTail(w.LogPath(), n) }

// StartWorker runs "create-worker" for m's address of cfg.Protocol and then starts the
// worker in the foreground as a child process. It does not wait for the
// worker to connect (see Master.WaitWorkerConnected). Stop it with Stop.
func StartWorker(ctx context.Context, m *Master, cfg WorkerConfig) (*WorkerProcess, error) {
	if cfg.Program == "" {
		cfg.Program = ReferenceWorkerProgram
	}
	prog, err := exec.LookPath(cfg.Program)
	if err != nil {
		return nil, fmt.Errorf("mastertest: find worker program: %w", err)
	}
	// Absolute, because the worker resolves its basedir after changing
	// into it, and our callers' relative paths mean nothing there.
	if prog, err = filepath.Abs(prog); err != nil {
		return nil, fmt.Errorf("mastertest: %w", err)
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("mastertest: worker dir: %w", err)
	}

	args := []string{"create-worker", "-q"}
	if cfg.Protocol != "" {
		args = append(args, "--protocol="+cfg.Protocol)
	}
	args = append(args, cfg.CreateArgs...)
	addr := cfg.MasterAddr
	if addr == "" {
		addr = m.WorkerAddr(cfg.Protocol)
	}
	args = append(args, dir, addr, cfg.Name, cfg.Password)
	create := exec.CommandContext(ctx, prog, args...)
	create.Env = cfg.Env
	// exec.CommandContext kills only the direct child on cancellation;
	// WaitDelay keeps a stray grandchild holding the pipe from blocking.
	create.WaitDelay = pipeDrainDelay
	if out, err := create.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("mastertest: %s create-worker %s: %w\n%s", cfg.Program, dir, err, out)
	}
	if cfg.BeforeStart != nil {
		if err := cfg.BeforeStart(dir); err != nil {
			return nil, fmt.Errorf("mastertest: preparing worker %s: %w", dir, err)
		}
	}

	cmd := exec.Command(prog, "start", "--nodaemon", dir)
	cmd.Dir = dir
	cmd.Env = cfg.Env
	p, err := startProcess(fmt.Sprintf("worker %q (%s)", cfg.Name, cfg.Program), cmd)
	if err != nil {
		return nil, fmt.Errorf("mastertest: %w", err)
	}
	return &WorkerProcess{Process: p, Dir: dir}, nil
}

// StartReferenceWorker creates and starts Buildbot's Python worker
// (buildbot-worker) in dir, connecting to m as name with password.
func StartReferenceWorker(ctx context.Context, m *Master, name, password, dir string) (*WorkerProcess, error) {
	return StartWorker(ctx, m, WorkerConfig{Dir: dir, Name: name, Password: password})
}
