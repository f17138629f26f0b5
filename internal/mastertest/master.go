package mastertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Default limits. Startup is generous because a Python master on a busy
// two-core machine can take several seconds just to import Twisted.
const (
	DefaultStartTimeout = 60 * time.Second
	DefaultStopTimeout  = 15 * time.Second
	pollInterval        = 100 * time.Millisecond
	portAttempts        = 3
	logTailLines        = 40
)

// WorkerSpec declares one worker in the master's configuration.
type WorkerSpec struct {
	Name     string
	Password string
	// MaxBuilds limits concurrent builds on the worker; 0 means no limit.
	MaxBuilds int
}

// Options describes the master to start. A 3.7 master refuses to start
// without at least one worker, one builder, and a scheduler for every
// builder (listing a builder in ForceSchedulers is enough).
type Options struct {
	// Workers are added to c['workers'].
	Workers []WorkerSpec

	// Builders is Python source appended to master.cfg after the harness's
	// own settings. It defines factories and appends to c['builders'] (and
	// to c['schedulers'] for schedulers other than the force schedulers the
	// harness adds). `steps`, `util`, `schedulers` and `worker` from
	// buildbot.plugins are already imported. Use PyString to embed Go
	// strings.
	Builders string

	// ForceSchedulers lists builders that get a ForceScheduler each, which
	// is what ForceBuild uses.
	ForceSchedulers []string

	// ExtraConfig is Python source appended at the very end of master.cfg.
	ExtraConfig string

	// Dir is the master's basedir. If empty, a temporary directory is
	// created and removed by Close (unless Keep is set). A given Dir is
	// never removed.
	Dir string

	// Keep keeps a temporary Dir after Close, for post-mortem inspection.
	Keep bool

	// Buildbot is the `buildbot` command to run; default "buildbot" from
	// $PATH.
	Buildbot string

	// StartTimeout bounds the wait for the master to serve its REST API;
	// default DefaultStartTimeout. A deadline on New's context also applies.
	StartTimeout time.Duration
}

// Master is a running Buildbot master with its PB port and REST API bound to
// 127.0.0.1. Its methods are safe for concurrent use.
type Master struct {
	dir         string
	removeOK    bool // dir is ours to remove on Close
	pbPort      int
	httpPort    int
	msgpackPort int
	forces      map[string]string // builder name -> force scheduler name
	proc        *Process
	client      *http.Client

	closeOnce sync.Once
	closeErr  error
}

// New writes a master configuration for opts, starts the master as a child
// process and waits until its REST API answers. The master keeps running
// after ctx ends; call Close to stop it. On error nothing is left running
// and the error includes the tail of the master's twistd.log.
func New(ctx context.Context, opts Options) (*Master, error) {
	return newMaster(ctx, opts, freePorts)
}

// newMaster is New with the port picker as a parameter, so that tests can
// make the first pick collide.
func newMaster(ctx context.Context, opts Options, pickPorts func(n int) ([]int, error)) (*Master, error) {
	if opts.Buildbot == "" {
		opts.Buildbot = "buildbot"
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	buildbot, err := exec.LookPath(opts.Buildbot)
	if err != nil {
		return nil, fmt.Errorf("mastertest: find buildbot: %w", err)
	}
	m := &Master{
		forces: forceSchedulerNames(opts.ForceSchedulers),
		// The per-request timeout only guards against a wedged master;
		// callers bound whole operations with their contexts.
		client: &http.Client{Timeout: 30 * time.Second},
	}
	if opts.Dir == "" {
		m.dir, err = os.MkdirTemp("", "mastertest-")
		if err != nil {
			return nil, fmt.Errorf("mastertest: %w", err)
		}
		m.removeOK = !opts.Keep
	} else {
		if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("mastertest: %w", err)
		}
		m.dir = opts.Dir
	}
	// The master's own idea of its basedir comes from os.getcwd(), which
	// resolves symlinks; use the same form so paths in errors match.
	if m.dir, err = filepath.Abs(m.dir); err == nil {
		m.dir, err = filepath.EvalSymlinks(m.dir)
	}
	if err != nil {
		m.cleanupDir()
		return nil, fmt.Errorf("mastertest: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		err = m.start(ctx, buildbot, opts, pickPorts)
		if err == nil {
			return m, nil
		}
		if !errors.Is(err, errPortInUse) || attempt == portAttempts {
			m.cleanupDir()
			return nil, fmt.Errorf("mastertest: start master in %s: %w", m.dir, err)
		}
		// Another process took a port between picking and binding it.
		// Keep the failed log for the record, and retry with new ports.
		_ = os.Rename(m.logPath(), fmt.Sprintf("%s.attempt%d", m.logPath(), attempt))
	}
}

// ports are the master's listening ports.
type ports struct{ pb, http, msgpack int }

// errPortInUse marks a start that failed because a port was taken.
var errPortInUse = errors.New("port already in use")

// start makes one attempt at starting the master on fresh ports.
func (m *Master) start(ctx context.Context, buildbot string, opts Options, pickPorts func(int) ([]int, error)) error {
	picked, err := pickPorts(3)
	if err != nil {
		return err
	}
	m.pbPort, m.httpPort, m.msgpackPort = picked[0], picked[1], picked[2]
	if err := writeMasterFiles(m.dir, opts, ports{pb: m.pbPort, http: m.httpPort, msgpack: m.msgpackPort}, m.forces); err != nil {
		return err
	}

	// `buildbot start --nodaemon` runs twistd in-process (no fork), so the
	// child is the master itself and stopping it is a plain signal.
	cmd := exec.Command(buildbot, "start", "--nodaemon", m.dir)
	cmd.Dir = m.dir
	cmd.Env = append(os.Environ(), "PYTHONPATH="+pythonPath(filepath.Join(m.dir, wwwStubDir)))
	// twistd appends to an existing log (a reused Options.Dir): only what
	// this start logs counts.
	var logStart int64
	if fi, err := os.Stat(m.logPath()); err == nil {
		logStart = fi.Size()
	}
	m.proc, err = startProcess("buildbot master", cmd)
	if err != nil {
		return err
	}
	if err := m.waitReady(ctx, logStart); err != nil {
		stopErr := m.proc.Stop(DefaultStopTimeout)
		log := m.LogTail(logTailLines)
		if strings.Contains(log, "CannotListenError") && strings.Contains(log, "Address already in use") {
			err = fmt.Errorf("%w: %w", errPortInUse, err)
		}
		return fmt.Errorf("%w%s\n--- master output ---\n%s--- twistd.log (tail) ---\n%s",
			err, errSuffix(stopErr), m.proc.Output(), log)
	}
	return nil
}

// waitReady waits for "BuildMaster is running" in twistd.log, which is
// logged only once every port is bound (so the HTTP port cannot be answered
// by an unrelated process), and then for the REST API to answer.
func (m *Master) waitReady(ctx context.Context, logStart int64) error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	running := false
	for {
		if !running {
			if b, err := os.ReadFile(m.logPath()); err == nil && int64(len(b)) >= logStart {
				running = strings.Contains(string(b[logStart:]), "BuildMaster is running")
			}
		}
		if running {
			var v struct{}
			if err := m.Get(ctx, "/builders", nil, &v); err == nil {
				return nil
			}
		}
		select {
		case <-m.proc.Done():
			return fmt.Errorf("master exited during startup (%v)", m.proc.Err()) //nolint:errorlint // nil after a clean exit, which %w would garble
		case <-ctx.Done():
			return fmt.Errorf("master not ready: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// Close stops the master (SIGTERM, then SIGKILL after DefaultStopTimeout)
// and removes its temporary directory unless Options.Keep was set. It is
// safe to call more than once.
func (m *Master) Close() error {
	m.closeOnce.Do(func() {
		m.client.CloseIdleConnections()
		if err := m.proc.Stop(DefaultStopTimeout); err != nil {
			m.closeErr = fmt.Errorf("mastertest: stop master: %w\n--- twistd.log (tail) ---\n%s",
				err, m.LogTail(logTailLines))
		}
		m.cleanupDir()
	})
	return m.closeErr
}

func (m *Master) cleanupDir() {
	if m.removeOK {
		_ = os.RemoveAll(m.dir)
	}
}

// Dir returns the master's basedir (master.cfg, twistd.log, http.log).
func (m *Master) Dir() string { return m.dir }

// PBAddr returns the worker-facing address, "127.0.0.1:PORT", in the form
// create-worker takes.
func (m *Master) PBAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(m.pbPort)) }

// PBPort returns the port the master accepts workers on.
func (m *Master) PBPort() int { return m.pbPort }

// MsgpackAddr returns the address of the master's msgpack_experimental_v7
// (WebSocket) port, "127.0.0.1:PORT".
func (m *Master) MsgpackAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(m.msgpackPort))
}

// MsgpackPort returns the port of the msgpack_experimental_v7 protocol.
func (m *Master) MsgpackPort() int { return m.msgpackPort }

// Protocols are the worker protocols every Master serves, as a worker's
// --protocol names them.
var Protocols = []string{"pb", "msgpack_experimental_v7"}

// WorkerAddr returns the address workers of protocol (one of Protocols)
// connect to.
func (m *Master) WorkerAddr(protocol string) string {
	if protocol == "msgpack_experimental_v7" {
		return m.MsgpackAddr()
	}
	return m.PBAddr()
}

// URL returns the base URL of the web server, "http://127.0.0.1:PORT/".
func (m *Master) URL() string { return fmt.Sprintf("http://127.0.0.1:%d/", m.httpPort) }

// Process returns the master's process handle, e.g. to check that it is
// still alive.
func (m *Master) Process() *Process { return m.proc }

// ForceSchedulerName returns the name of the force scheduler generated for
// builder, or "" if Options.ForceSchedulers did not list it.
func (m *Master) ForceSchedulerName(builder string) string { return m.forces[builder] }

func (m *Master) logPath() string { return filepath.Join(m.dir, "twistd.log") }

// LogTail returns the last n lines of the master's twistd.log.
func (m *Master) LogTail(n int) string { return fileTail(m.logPath(), n) }

// WaitLog waits until the master's twistd.log contains substr, e.g.
// "invalid login from user 'w1'" for a refused worker.
func (m *Master) WaitLog(ctx context.Context, substr string) error {
	return m.poll(ctx, fmt.Sprintf("%q in the master's log", substr), func() (bool, error) {
		b, err := os.ReadFile(m.logPath())
		return err == nil && strings.Contains(string(b), substr), err
	})
}

// fileTail returns the last n lines of the file at path, or a note saying
// why it cannot.
func fileTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)\n", err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}

// freePorts returns n distinct loopback ports that were free a moment ago.
// All listeners stay open until every port is picked, so the kernel cannot
// hand out the same port twice.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// pythonPath prepends dir to the inherited PYTHONPATH.
func pythonPath(dir string) string {
	if old := os.Getenv("PYTHONPATH"); old != "" {
		return dir + string(os.PathListSeparator) + old
	}
	return dir
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}
