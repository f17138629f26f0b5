package command

import (
	"context"
	"fmt"
	"github.com/buildslave/buildslave/internal/pytext"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// shellClass is the reference's name for the shell command, which its
// error messages show.
const shellClass = "WorkerShellCommand"

// shell is the "shell" command: it runs a program, or a command line
// through the system shell, in a working directory and reports its output
// and exit status (COMMANDS.md §2).
//
// Text goes through the worker's unicode_encoding (UTF-8 by default), as
// in the reference: the command, its arguments and initial_stdin are
// encoded with it (a character it cannot encode fails the command), and
// output is decoded with it, undecodable bytes becoming U+FFFD.
type shell struct {
	args  Args
	env   *Environment
	log   *slog.Logger
	codec pytext.Codec

	interruptOnce sync.Once
	interrupt     chan struct{} // closed by Interrupt
	interrupted   atomic.Bool   // an interrupt reached the running process
}

func newShell(args Args, env *Environment) (Command, error) {
	if err := requireArgs(shellClass, args, "workdir", "command"); err != nil {
		return nil, err
	}
	if env == nil {
		env = &Environment{}
	}
	codec, err := pytext.Lookup(env.Encoding)
	if err != nil {
		return nil, err
	}
	return &shell{args: args, env: env, log: env.logger(), codec: codec, interrupt: make(chan struct{})}, nil
}

// Interrupt starts the kill procedure of a running process, as the
// master's interruptCommand asks. The reason is only logged, as the
// reference does.
func (s *shell) Interrupt(why string) {
	s.log.Info("interrupt requested", "why", why)
	s.interruptOnce.Do(func() { close(s.interrupt) })
}

// Interrupted reports whether an interrupt stopped the process.
func (s *shell) Interrupted() bool { return s.interrupted.Load() }

// Run runs the command once. Problems before the process could be started
// (bad arguments, a workdir that cannot be made) are its error; a program
// that cannot be executed is reported like the reference's child reports
// it: a message on stderr and rc 1.
func (s *shell) Run(ctx context.Context, out *Output) error {
	out.decodeOutputWith(s.codec)
	cfg, err := parseShellArgs(s.args, s.codec)
	if err != nil {
		return err
	}
	cfg.workdir = JoinPath(s.env.Basedir, cfg.workdir)
	if err := os.MkdirAll(cfg.workdir, 0o777); err != nil {
		return fmt.Errorf("creating the workdir: %w", err)
	}
	environ, err := s.environment(cfg)
	if err != nil {
		return err
	}
	if cfg.usePTY && !canUsePTY(cfg) {
		s.log.Info("running without a PTY")
		cfg.usePTY = false
		// No newline: the reference's warning runs into the next header
		// line, and users know it that way.
		out.Header("WARNING: disabling usePTY for this command")
	}
	writeShellHeader(out, cfg, environ)

	logs := make([]*logWatcher, len(cfg.logfiles))
	for i, spec := range cfg.logfiles {
		logs[i] = newLogWatcher(spec, cfg.workdir) // before the process can touch the files
	}
	start := time.Now()
	c, err := s.start(cfg, environ)
	if err != nil {
		s.execFailed(out, cfg, err, start)
		return nil
	}
	defer trackGroup(s.env, c, cfg.command.fake)()
	r := &shellRun{shell: s, cfg: cfg, out: out, child: c, logs: logs}
	return r.supervise(ctx, start)
}

// start starts the process: a command string through the system shell, a
// list directly.
func (s *shell) start(cfg *shellConfig, environ []string) (*child, error) {
	if err := checkEnvNames(cfg.env); err != nil {
		return nil, err
	}
	argv, cmdLine := cfg.command.real, ""
	if cfg.command.text {
		argv, cmdLine = shellArgv(cfg.command.real[0])
	}
	env := envMap(environ)
	path, err := lookPath(argv[0], env[envName(env, "PATH")], cfg.workdir)
	if err != nil {
		return nil, err
	}
	return startChild(childSpec{
		path: path, argv: argv, cmdLine: cmdLine,
		dir: cfg.workdir, env: environ, stdin: cfg.stdin, pty: cfg.usePTY,
		start: s.env.startProcess,
	})
}

// execFailed reports a process that could not be started as the
// reference's forked child does when its exec fails: an explanation on
// stderr, rc 1. It shows the fake argv: the message must not reveal
// secrets.
func (s *shell) execFailed(out *Output, cfg *shellConfig, err error, start time.Time) {
	shown := cfg.command.fake
	if cfg.command.text {
		shown, _ = shellArgv(cfg.command.fake[0])
	}
	s.log.Info("cannot start the command", "argv", shown, "err", err)
	out.Stderr(fmt.Sprintf("Upon execvpe %s %s: %v\n", pyRepr([]byte(shown[0])), bytesListRepr(shown), err))
	out.RC(1)
	out.Header(elapsedHeader(time.Since(start)))
}

// canUsePTY reports whether the command can run under a pseudo-terminal.
// The reference refuses when initial_stdin is given (stdin must be a pipe
// to be closed after it) and off POSIX (ptySupported, per OS).
func canUsePTY(cfg *shellConfig) bool {
	return ptySupported && !cfg.hasStdin
}

// environment is the command's environment: the worker's with the env
// argument applied and PWD set to the workdir.
func (s *shell) environment(cfg *shellConfig) ([]string, error) {
	m, err := mergeEnv(s.env.Environ, cfg.env)
	if err != nil {
		return nil, err
	}
	// As the reference, but not under MSYS, whose shells go wrong with it.
	if m["MACHTYPE"] != "i686-pc-msys" {
		pwd, err := filepath.Abs(cfg.workdir)
		if err != nil {
			return nil, fmt.Errorf("resolving the workdir: %w", err)
		}
		m["PWD"] = pwd
	}
	return envList(m), nil
}

// writeShellHeader writes the header lines that describe the command
// before it starts (COMMANDS.md §2.4 steps 1-7).
func writeShellHeader(out *Output, cfg *shellConfig, environ []string) {
	out.Header(cfg.command.display() + "\n")
	dir := " in dir " + pytext.DecodeUTF8(cfg.workdir)
	if cfg.timeout.set() {
		dir += fmt.Sprintf(" (timeout %s %s)", cfg.timeout, cfg.timeout.unit())
	}
	if cfg.maxTime.set() {
		dir += fmt.Sprintf(" (maxTime %s %s)", cfg.maxTime, cfg.maxTime.unit())
	}
	out.Header(dir + "\n")
	out.Header(" watching logfiles " + pyRepr(cfg.logfilesShown) + "\n")
	out.Header(" argv: " + cfg.command.argvRepr() + "\n")
	if cfg.logEnviron {
		text := " environment:\n"
		for _, kv := range environ {
			text += "  " + pytext.DecodeUTF8(kv) + "\n"
		}
		out.Header(text)
	}
	if len(cfg.stdin) > 0 {
		out.Header(fmt.Sprintf(" writing %d bytes to stdin\n", len(cfg.stdin)))
	}
	out.Header(fmt.Sprintf(" using PTY: %s\n", pyRepr(cfg.usePTY)))
}

func elapsedHeader(d time.Duration) string {
	return fmt.Sprintf("elapsedTime=%0.6f\n", d.Seconds())
}
