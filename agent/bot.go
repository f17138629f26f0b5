package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/buildslave/buildslave/agent/command"
	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/hostinfo"
)

// bot is the worker as the master sees it, whatever the protocol: its info,
// its builders and the commands running on them. It outlives connections,
// as buildbot-worker's Bot does, so builders keep their state across a
// reconnection.
type bot struct {
	cfg      *config.Config
	log      *slog.Logger
	version  string
	registry *command.Registry
	environ  []string // what commands inherit: ours, minus secrets
	observer Observer // never nil
	// startProcess is Options.StartProcess, for every command.
	startProcess func(start func() error) error

	mu       sync.Mutex
	builders map[string]*builder
	// commands are the running commands by id, whatever their builder:
	// msgpack addresses them by id alone.
	commands map[string]*running
	// output is what the master set with set_worker_settings (msgpack);
	// zero means the reference's defaults, which PB always uses.
	output     command.OutputSettings
	lastActive time.Time // when a command last started or ended
}

func newBot(cfg *config.Config, logger *slog.Logger, version string) *bot {
	return &bot{
		cfg:      cfg,
		log:      logger,
		version:  version,
		registry: command.NewRegistry(),
		environ:  commandEnviron(os.Environ()),
		builders: make(map[string]*builder),
		commands: make(map[string]*running),
		observer: nopObserver{},
	}
}

// setOutputSettings stores the master's output settings for the commands
// started from now on.
func (b *bot) setOutputSettings(s command.OutputSettings) error {
	if err := s.Check(); err != nil {
		return err
	}
	b.mu.Lock()
	b.output = s
	b.mu.Unlock()
	return nil
}

// secretVariables are environment variables that may carry the worker's
// password (the docker worker image's convention); build commands must not
// see them.
var secretVariables = map[string]bool{"WORKERPASS": true}

func commandEnviron(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		name, _, _ := cutEnv(kv)
		if secretVariables[name] {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func cutEnv(kv string) (name, value string, ok bool) {
	for i := 1; i < len(kv); i++ { // from 1: Windows has "=C:" names
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], true
		}
	}
	return kv, "", false
}

// field is one entry of an ordered, protocol-neutral dict; Value is a
// string, int, bool or []field.
type field struct {
	Key   string
	Value any
}

// workerInfo is getWorkerInfo's answer (PB.md §5.8): info files first, then
// os-release, then the fixed keys, later ones overriding earlier ones.
func (b *bot) workerInfo() []field {
	var info []field
	set := func(k string, v any) {
		for i := range info {
			if info[i].Key == k {
				info[i].Value = v
				return
			}
		}
		info = append(info, field{k, v})
	}
	for _, f := range b.infoFiles() {
		set(f.Key, f.Value)
	}
	release := hostinfo.OSRelease()
	keys := make([]string, 0, len(release))
	for k := range release {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		set("os_"+k, release[k])
	}
	env := make([]field, 0, len(b.environ))
	for _, kv := range b.environ {
		if k, v, ok := cutEnv(kv); ok {
			env = append(env, field{k, v})
		}
	}
	set("environ", env)
	set("system", pythonOSName())
	set("basedir", b.cfg.Basedir)
	set("numcpus", b.numCPUs())
	set("version", b.version)
	set("worker_commands", b.commandVersions())
	set("delete_leftover_dirs", boolInt(b.cfg.DeleteLeftoverDirs))
	return info
}

// infoFiles reads every regular file of BASEDIR/info, in name order.
func (b *bot) infoFiles() []field {
	dir := filepath.Join(b.cfg.Basedir, "info")
	entries, err := os.ReadDir(dir)
	if err != nil {
		if !os.IsNotExist(err) {
			b.log.Warn("cannot read the info directory", "dir", dir, "err", err)
		}
		return nil
	}
	var out []field
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			b.log.Warn("cannot read an info file", "file", e.Name(), "err", err)
			continue
		}
		out = append(out, field{e.Name(), string(data)})
	}
	return out
}

// numCPUs reports the configured count, unlike the reference, which ignores
// it: a volunteer who shares a machine says how much of it builds may use.
func (b *bot) numCPUs() int {
	if b.cfg.NumCPUs > 0 {
		return b.cfg.NumCPUs
	}
	return runtime.NumCPU()
}

func (b *bot) commandVersions() []field {
	versions := b.registry.Versions()
	names := make([]string, 0, len(versions))
	for n := range versions {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]field, len(names))
	for i, n := range names {
		out[i] = field{n, versions[n]}
	}
	return out
}

func pythonOSName() string {
	if runtime.GOOS == "windows" {
		return "nt"
	}
	return "posix"
}

// delete_leftover_dirs travels as the tac's raw value, an int.
func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}

// builderSpec is one (name, builddir) pair of setBuilderList.
type builderSpec struct {
	Name     string
	BuildDir string
}

// setBuilderList makes the builders match the master's list (PB.md §5.6)
// and returns them in the list's order.
func (b *bot) setBuilderList(specs []builderSpec) ([]*builder, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	wanted := make(map[string]bool, len(specs))
	wantedDirs := map[string]bool{"info": true}
	out := make([]*builder, 0, len(specs))
	for _, s := range specs {
		dir := command.JoinPath(b.cfg.Basedir, s.BuildDir)
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return nil, fmt.Errorf("creating the directory of builder %q: %w", s.Name, err)
		}
		bl := b.builders[s.Name]
		if bl == nil {
			bl = &builder{bot: b, name: s.Name}
			b.builders[s.Name] = bl
		}
		bl.setDir(dir)
		wanted[s.Name] = true
		wantedDirs[s.BuildDir] = true
		out = append(out, bl)
	}
	for name, bl := range b.builders {
		if !wanted[name] {
			b.log.Info("removing a builder the master no longer has", "builder", name)
			bl.stop("builder removed by the master")
			delete(b.builders, name)
		}
	}
	b.reportLeftoverDirs(wantedDirs)
	return out, nil
}

// reportLeftoverDirs mentions, or deletes when configured, directories of
// builders the master no longer has.
func (b *bot) reportLeftoverDirs(wanted map[string]bool) {
	entries, err := os.ReadDir(b.cfg.Basedir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || wanted[e.Name()] {
			continue
		}
		path := filepath.Join(b.cfg.Basedir, e.Name())
		if b.cfg.DeleteLeftoverDirs {
			b.log.Info("deleting a leftover directory", "dir", path)
			if err := os.RemoveAll(path); err != nil {
				b.log.Warn("cannot delete a leftover directory", "dir", path, "err", err)
			}
			continue
		}
		b.log.Info(fmt.Sprintf("I have a leftover directory '%s' that is not being used by the buildmaster: you can delete it now", e.Name()))
	}
}

// builder is one of the master's builders on this worker: a directory and
// at most one running command.
type builder struct {
	bot  *bot
	name string

	mu      sync.Mutex
	dir     string
	running *running
}

type running struct {
	id     string
	cmd    command.Command
	out    *command.Output
	setup  bool // run to attach the worker, not for a build
	cancel context.CancelFunc
	done   chan struct{}
}

func (bl *builder) setDir(dir string) {
	bl.mu.Lock()
	bl.dir = dir
	bl.mu.Unlock()
}

func (bl *builder) builderDir() string {
	bl.mu.Lock()
	defer bl.mu.Unlock()
	return bl.dir
}

// startCommand creates the command and runs it in the background on this
// builder, in place of a command still running there.
func (bl *builder) startCommand(ctx context.Context, id, name string, args command.Args, sink command.Sink) error {
	return bl.bot.startCommand(ctx, bl, false, id, name, args, sink)
}

// startCommand creates the command called name and runs it in the
// background, on bl, or on no builder when bl is nil (msgpack: the master
// sends absolute paths). setup marks a command the master runs to attach
// the worker rather than for a build (msgpack's listdir, mkdir, ... without
// builder_name): it does not count as activity (see activity). ctx is the
// session's: losing the connection kills the command.
func (b *bot) startCommand(ctx context.Context, bl *builder, setup bool, id, name string, args command.Args, sink command.Sink) error {
	return b.startCommandFor(ctx, bl, "", setup, id, name, args, sink)
}

// startCommandFor is startCommand for a command of a build of builderName
// that runs on no builder (msgpack names the builder but holds no
// builders): the name shows in the log, the status and the metrics.
func (b *bot) startCommandFor(ctx context.Context, bl *builder, builderName string, setup bool, id, name string, args command.Args, sink command.Sink) error {
	env := &command.Environment{
		Basedir:      b.cfg.Basedir,
		Environ:      b.environ,
		Encoding:     b.cfg.UnicodeEncoding,
		StartProcess: b.startProcess,
	}
	if bl != nil {
		builderName = bl.name
		env.BuilderDir = bl.builderDir()
	}
	logger := b.log.With("command", id)
	if builderName != "" {
		logger = b.log.With("builder", builderName, "command", id)
	}
	env.Logger = logger
	observed, sink := observeCommand(b.observer, builderName, id, name, args, sink)
	cmd, err := b.registry.New(name, args, env)
	if unknown := (*command.UnknownCommandError)(nil); errors.As(err, &unknown) {
		unknown.CommandID = id
	}
	if err != nil {
		return err
	}
	b.mu.Lock()
	settings := b.output
	b.mu.Unlock()
	cctx, cancel := context.WithCancel(ctx)
	r := &running{id: id, cmd: cmd, out: command.NewOutputWith(cctx, sink, settings), setup: setup, cancel: cancel, done: make(chan struct{})}
	if bl != nil {
		bl.mu.Lock()
		if old := bl.running; old != nil {
			b.log.Warn("leftover command, dropping it", "builder", bl.name, "command", old.id)
			old.cmd.Interrupt("leftover command")
		}
		bl.running = r
		bl.mu.Unlock()
	}
	b.mu.Lock()
	b.commands[id] = r
	if !setup {
		b.lastActive = time.Now()
	}
	b.mu.Unlock()

	logger.Info("startCommand", "name", name)
	observed.started()
	go func() {
		defer close(r.done)
		defer cancel()
		started := time.Now()
		command.RunOutput(cctx, cmd, r.out, sink, logger)
		observed.finished(cmd, cctx.Err() != nil)
		logger.Info("command finished", "name", name, "duration", time.Since(started).Round(time.Millisecond).String())
		if bl != nil {
			bl.mu.Lock()
			if bl.running == r {
				bl.running = nil
			}
			bl.mu.Unlock()
		}
		b.mu.Lock()
		if b.commands[id] == r {
			delete(b.commands, id)
		}
		if !setup {
			b.lastActive = time.Now()
		}
		b.mu.Unlock()
	}()
	return nil
}

// interruptCommand interrupts the running command of that id, after
// sending what it has buffered, as the reference's msgpack worker does.
// An unknown id is only logged: the command may just have ended.
func (b *bot) interruptCommand(ctx context.Context, id, why string) {
	b.mu.Lock()
	r := b.commands[id]
	b.mu.Unlock()
	if r == nil {
		b.log.Info("asked to interrupt, but no such command is running", "command", id, "why", why)
		return
	}
	b.log.Info("interrupting command", "command", id, "why", why)
	if err := r.out.Flush(ctx); err != nil {
		b.log.Warn("flushing the output before an interrupt failed", "command", id, "err", err)
	}
	r.cmd.Interrupt(why)
}

// activity says how many build commands (not setup ones) are running and
// when one last started or ended (the zero time if none has run).
func (b *bot) activity() (running int, last time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range b.commands {
		if !r.setup {
			running++
		}
	}
	return running, b.lastActive
}

func (bl *builder) interruptCommand(id, why string) {
	bl.mu.Lock()
	r := bl.running
	bl.mu.Unlock()
	if r == nil {
		bl.bot.log.Info("asked to interrupt, but no command is running", "builder", bl.name, "command", id, "why", why)
		return
	}
	bl.bot.log.Info("interrupting command", "builder", bl.name, "command", r.id, "why", why)
	r.cmd.Interrupt(why)
}

// stop kills the running command, if any, without reporting to the master.
func (bl *builder) stop(why string) {
	bl.mu.Lock()
	r := bl.running
	bl.mu.Unlock()
	if r != nil {
		bl.bot.log.Info("stopping command", "builder", bl.name, "command", r.id, "why", why)
		r.cancel()
	}
}
