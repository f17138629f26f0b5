package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"

	"github.com/spf13/cobra"

	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/hostinfo"
)

// defaultAdmin is buildbot-worker's placeholder for info/admin.
const defaultAdmin = "Your Name Here <admin@youraddress.invalid>\n"

// createOptions are create-slave's options; the positional arguments and
// these together make a config.Config.
type createOptions struct {
	cfg         config.Config
	relocatable bool
	force       bool
	quiet       bool
	// allocator, when set, makes the worker ask slavealloc for its master
	// (allocator.go).
	allocator          string
	allocatorTokenFile string
	allocatorCAFile    string
}

func newCreateCommand(a *app) *cobra.Command {
	opts := createOptions{cfg: config.Defaults()}
	cmd := &cobra.Command{
		Use:     "create-slave [flags] BASEDIR MASTERHOST[:PORT] NAME PASSWORD | --allocator URL BASEDIR NAME",
		Aliases: []string{"create-worker"},
		Short:   "Create and populate a directory for a new worker",
		Long: `Create a worker directory: BASEDIR/buildslave.cfg, which holds the settings
and the password (mode 0600), and the info/admin and info/host files the
master shows to its users (edit them).

The worker logs in to the master as NAME with PASSWORD; the master's
administrator gives you both, and MASTERHOST[:PORT], the master's host name
and worker port (default 9989; an IPv6 address goes in brackets:
[2001:db8::1]:9989). Builds run in subdirectories of BASEDIR. Several
masters, comma-separated (host1:9989,host2:9989), are tried in that order on
every (re)connection: the first is the worker's master, the others its
failover_masters.

With --allocator URL the master, name and password come from a slavealloc
allocator instead, which start and restart ask again every time (see
BASEDIR/allocator.cfg), falling back to the last answer when it is down.

An existing buildslave.cfg with different settings is only replaced with
--force. Put -- before the arguments if one of them starts with a dash.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if opts.allocator != "" {
				if len(args) != 2 {
					return usageErrorf("%s --allocator needs 2 arguments, BASEDIR NAME (got %d)", cmd.Name(), len(args))
				}
				return nil
			}
			if len(args) != 4 {
				return usageErrorf("%s needs 4 arguments, BASEDIR MASTERHOST[:PORT] NAME PASSWORD (got %d)", cmd.Name(), len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.allocator != "" {
				return createFromAllocator(cmd.Context(), a, cmd.OutOrStdout(), cmd.ErrOrStderr(), args, opts)
			}
			return createWorker(a, cmd.OutOrStdout(), cmd.ErrOrStderr(), args, opts)
		},
	}

	f := cmd.Flags()
	f.SortFlags = false
	c := &opts.cfg
	f.IntVarP(&c.Keepalive, "keepalive", "k", c.Keepalive, "seconds between keepalives sent to the master (0: none)")
	f.Var(umaskValue{&c.Umask}, "umask", "umask of the files builds create; use --umask=0o22 to make them world-readable")
	f.IntVar(&c.MaxDelay, "maxdelay", c.MaxDelay, "longest wait in seconds between connection attempts")
	f.Var(noneInt{&c.NumCPUs}, "numcpus", "number of CPUs reported to the master (None: detect)")
	f.StringVarP(&c.AllowShutdown, "allow-shutdown", "a", "", "let the worker ask for a graceful shutdown: 'signal' (SIGHUP) or 'file' (touch shutdown.stamp)")
	f.Var(noneInt{&c.MaxRetries}, "maxretries", "failed connection attempts before the worker gives up (None: never)")
	f.BoolVar(&c.UseTLS, "use-tls", false, "connect to the master with TLS")
	f.BoolVar(&c.DeleteLeftoverDirs, "delete-leftover-dirs", false, "delete directories the master has no builder for")
	f.StringVar(&c.ProxyConnectionString, "proxy-connection-string", "", "HTTP proxy to tunnel the connection through")
	f.StringVar(&c.ConnectionString, "connection-string", "", "connection endpoint replacing MASTERHOST[:PORT], e.g. TLS:host:port")
	f.StringVar(&c.Protocol, "protocol", c.Protocol, "protocol spoken to the master: pb or msgpack_experimental_v7")
	f.Int64VarP(&c.LogSize, "log-size", "s", c.LogSize, "rotate twistd.log at this many bytes (rounded up to whole MiB)")
	f.VarP(noneInt{&c.LogCount}, "log-count", "l", "rotated logs to keep (None: all)")
	f.BoolVarP(&c.NoLogRotate, "no-logrotate", "n", false, "never rotate twistd.log")
	f.StringVar(&c.MetricsAddr, "metrics-addr", "", "serve /healthz and /metrics at HOST:PORT (a port alone: 127.0.0.1 only); default: off")
	f.BoolVarP(&opts.relocatable, "relocatable", "r", false, "store the base directory as \".\", so that the directory can be moved")
	f.BoolVarP(&opts.force, "force", "f", false, "replace an existing buildslave.cfg that has different settings")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "print nothing but errors")
	f.StringVar(&opts.allocator, "allocator", "", "URL of a slavealloc allocator: take master, name and password from it (arguments: BASEDIR NAME), and ask it again at every start")
	f.StringVar(&opts.allocatorTokenFile, "allocator-token-file", "", "file holding the token sent to the allocator")
	f.StringVar(&opts.allocatorCAFile, "allocator-ca-file", "", "PEM certificates to trust for an https:// allocator")
	return cmd
}

// createWorker carries out create-slave. Everything that can be checked is
// checked before the first file is written, and what this run created is
// removed again if a later step fails, so a failed run leaves nothing
// half-made behind.
func createWorker(a *app, stdout, stderr io.Writer, args []string, opts createOptions) (err error) {
	if opts.quiet {
		stdout, stderr = io.Discard, io.Discard
	}
	basedir, err := filepath.Abs(args[0])
	if err != nil {
		return fmt.Errorf("base directory %q: %w", args[0], err)
	}
	cfg := opts.cfg
	cfg.Basedir, cfg.Relocatable = basedir, opts.relocatable
	cfg.Name, cfg.Password = args[2], args[3]
	if cfg.MasterHost, cfg.MasterPort, cfg.FailoverMasters, err = parseMasterList(args[1]); err != nil {
		return &usageError{err}
	}
	if err := cfg.Validate(); err != nil {
		return &usageError{err}
	}
	fi, err := os.Stat(basedir)
	exists := err == nil
	switch {
	case exists && !fi.IsDir():
		return fmt.Errorf("%s exists and is not a directory", basedir)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("base directory: %w", err)
	}
	existing, err := checkExistingConfig(basedir, &cfg, opts.force)
	if err != nil {
		return err
	}

	var created []string
	defer func() {
		if err != nil {
			removeCreated(created)
		}
	}()
	if exists {
		fmt.Fprintln(stdout, "updating existing installation")
	} else {
		if err := os.MkdirAll(basedir, 0o755); err != nil {
			return fmt.Errorf("creating the base directory: %w", err)
		}
		created = append(created, basedir)
		fmt.Fprintf(stdout, "mkdir %s\n", basedir)
	}

	info := hostinfo.Collect(basedir, a.version)
	made, err := createInfoFiles(stdout, basedir, info)
	created = append(created, made...)
	if err != nil {
		return err
	}
	for _, w := range info.Warnings() {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}

	switch existing {
	case configSame:
		fmt.Fprintf(stdout, "not touching existing %s: it has the same settings\n", config.FileName)
	case configReplaced:
		fmt.Fprintf(stdout, "replacing existing %s (--force)\n", config.FileName)
	}
	if existing != configSame {
		if err := cfg.Write(basedir); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "worker configured in %s\n", basedir)
	return nil
}

// existingConfig is what create-slave does about a configuration file
// already in the base directory.
type existingConfig int

const (
	configAbsent   existingConfig = iota // none: write one
	configSame                           // same settings: keep it, and its owner's comments
	configReplaced                       // other settings, --force: replace it
)

// checkExistingConfig decides what to do about a configuration file already
// in basedir. Replacing one with other settings would lose its password
// and settings for good, hence --force.
func checkExistingConfig(basedir string, cfg *config.Config, force bool) (existingConfig, error) {
	path := filepath.Join(basedir, config.FileName)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return configAbsent, nil
	}
	old, loadErr := config.Load(basedir)
	if loadErr == nil && reflect.DeepEqual(*old, *cfg) {
		return configSame, nil
	}
	if force {
		return configReplaced, nil
	}
	why := "has different settings"
	if loadErr != nil {
		why = fmt.Sprintf("cannot be read (%v)", loadErr)
	}
	return configAbsent, fmt.Errorf("%s already exists and %s; replacing it would lose its password and settings, "+
		"so it is left alone: rerun with --force to replace it", path, why)
}

// createInfoFiles makes BASEDIR/info and the files buildbot-worker makes
// there, leaving existing ones alone, and returns what it created.
func createInfoFiles(stdout io.Writer, basedir string, info hostinfo.Info) (created []string, err error) {
	dir := filepath.Join(basedir, "info")
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.Mkdir(dir, 0o755); err != nil {
			return created, fmt.Errorf("creating the info directory: %w", err)
		}
		created = append(created, dir)
		fmt.Fprintf(stdout, "mkdir %s\n", dir)
	}
	edits := false
	for _, f := range []struct{ name, content string }{
		{"admin", defaultAdmin},
		{"host", info.Text()},
	} {
		path := filepath.Join(dir, f.name)
		made, err := writeIfMissing(path, f.content)
		if made {
			created = append(created, path)
		}
		if err != nil {
			return created, fmt.Errorf("creating info/%s: %w", f.name, err)
		}
		if made {
			edits = true
			fmt.Fprintf(stdout, "Creating info/%s, you need to edit it appropriately.\n", f.name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "access_uri")); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(stdout, "Not creating info/access_uri - add it if you wish")
	}
	if edits {
		fmt.Fprintf(stdout, "Please edit the files in %s appropriately.\n", dir)
	}
	return created, nil
}

// writeIfMissing creates path with content unless it exists. made says
// whether the file now exists because of this call, even if writing it
// failed half-way.
func writeIfMissing(path, content string) (made bool, err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return true, err
	}
	return true, f.Close()
}

// removeCreated undoes a failed create-slave, newest first.
func removeCreated(paths []string) {
	for i := len(paths) - 1; i >= 0; i-- {
		os.RemoveAll(paths[i])
	}
}
