package agent

import (
	"context"
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

	mu       sync.Mutex
	builders map[string]*builder
}

func newBot(cfg *config.Config, logger *slog.Logger, version string) *bot {
	return &bot{
		cfg:      cfg,
		log:      logger,
		version:  version,
		registry: command.NewRegistry(),
		environ:  commandEnviron(os.Environ()),
		builders: make(map[string]*builder),
		observer: nopObserver{},
	}
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

// startCommand creates the command and runs it in the background. ctx is
// the connection's: losing the connection kills the command.
func (bl *builder) startCommand(ctx context.Context, id, name string, args command.Args, sink command.Sink) error {
	env := &command.Environment{
		Basedir:    bl.bot.cfg.Basedir,
		BuilderDir: bl.builderDir(),
		Environ:    bl.bot.environ,
		Encoding:   bl.bot.cfg.UnicodeEncoding,
		Logger:     bl.bot.log.With("builder", bl.name, "command", id),
	}
	observed, sink := observeCommand(bl.bot.observer, bl.name, id, name, args, sink)
	cmd, err := bl.bot.registry.New(name, args, env)
	if err != nil {
		return err
	}
	bl.mu.Lock()
	if old := bl.running; old != nil {
		bl.bot.log.Warn("leftover command, dropping it", "builder", bl.name, "command", old.id)
		old.cmd.Interrupt("leftover command")
	}
	cctx, cancel := context.WithCancel(ctx)
	r := &running{id: id, cmd: cmd, cancel: cancel, done: make(chan struct{})}
	bl.running = r
	bl.mu.Unlock()

	env.Logger.Info("startCommand", "name", name)
	observed.started()
	go func() {
		defer close(r.done)
		defer cancel()
		started := time.Now()
		command.Run(cctx, cmd, sink, env.Logger)
		observed.finished(cmd, cctx.Err() != nil)
		env.Logger.Info("command finished", "name", name, "duration", time.Since(started).Round(time.Millisecond).String())
		bl.mu.Lock()
		if bl.running == r {
			bl.running = nil
		}
		bl.mu.Unlock()
	}()
	return nil
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
