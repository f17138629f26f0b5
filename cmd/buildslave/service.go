package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/service"
)

// serviceOptions are the options of the service subcommands.
type serviceOptions struct {
	name     string
	user     string
	password string
	dryRun   bool
	manager  string // --manager: the dry run's service manager
}

func newServiceCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "service",
		Short: "Run a worker as a boot-time service (systemd, launchd, Windows)",
		Long: `Install the worker of BASEDIR as a service of this system's service manager
(systemd, launchd or the Windows service manager; SysV, upstart and OpenRC
where those are found), so that it starts at boot and is started again when
it exits. Stopping the service asks the worker for a graceful shutdown: a
running build may finish first.

The service is named after BASEDIR (buildslave-NAME for .../NAME) unless
--name says otherwise; give the same --name to the other subcommands.
Without a service manager, use a boot hook instead: see 'buildslave boot-hook'.`,
	}
	cmd.AddCommand(
		newServiceInstallCommand(a),
		newServiceControlCommand(a, "uninstall", "Stop and remove the service", (*service.Manager).Uninstall),
		newServiceControlCommand(a, "start", "Start the service", (*service.Manager).Start),
		newServiceControlCommand(a, "stop", "Stop the service (gracefully: a running build may finish first)", (*service.Manager).Stop),
		newServiceControlCommand(a, "restart", "Restart the service", (*service.Manager).Restart),
		newServiceStatusCommand(a),
		newServiceRunCommand(a),
	)
	return cmd
}

func newServiceInstallCommand(a *app) *cobra.Command {
	var opts serviceOptions
	cmd := &cobra.Command{
		Use:   "install [flags] [BASEDIR]",
		Short: "Install the worker of BASEDIR as a boot-time service",
		Long: `Install the worker of BASEDIR (default: the current directory) as a service
that starts at boot. It runs as --user, by default the owner of
BASEDIR/buildslave.cfg (on Windows: LocalSystem). --dry-run prints the
systemd unit, launchd plist or Windows service definition instead of
installing it.`,
		Args: atMostOneBasedir,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.serviceInstall(cmd, basedirArg(args), opts)
		},
	}
	f := cmd.Flags()
	addServiceNameFlag(cmd, &opts)
	f.StringVar(&opts.user, "user", "", "the account the worker runs as (default: the owner of buildslave.cfg; Windows: LocalSystem)")
	f.StringVar(&opts.password, "password", "", "the password of --user's Windows account")
	f.BoolVar(&opts.dryRun, "dry-run", false, "print the service definition instead of installing it")
	f.StringVar(&opts.manager, "manager", "", "with --dry-run: print the definition for this service manager (systemd, sysv, launchd, windows) rather than this system's")
	return cmd
}

func addServiceNameFlag(cmd *cobra.Command, opts *serviceOptions) {
	cmd.Flags().StringVar(&opts.name, "name", "", "the service's name (default: buildslave- and BASEDIR's last element)")
}

func newServiceControlCommand(a *app, verb, short string, action func(*service.Manager) error) *cobra.Command {
	var opts serviceOptions
	cmd := &cobra.Command{
		Use:   verb + " [flags] [BASEDIR]",
		Short: short,
		Args:  atMostOneBasedir,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.serviceControl(cmd, verb, basedirArg(args), opts, action)
		},
	}
	addServiceNameFlag(cmd, &opts)
	return cmd
}

func newServiceStatusCommand(a *app) *cobra.Command {
	var opts serviceOptions
	cmd := &cobra.Command{
		Use:   "status [flags] [BASEDIR]",
		Short: "Print whether the service is installed, running or stopped",
		Args:  atMostOneBasedir,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := serviceDefinition(basedirArg(args), opts, false)
			if err != nil {
				return err
			}
			m, err := newServiceManager(d, "", basedirArg(args))
			if err != nil {
				return err
			}
			st, err := m.Status()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", d.Name, st)
			return nil
		},
	}
	addServiceNameFlag(cmd, &opts)
	return cmd
}

// serviceInstall installs the service, or prints its definition.
func (a *app) serviceInstall(cmd *cobra.Command, basedir string, opts serviceOptions) error {
	if opts.password != "" && runtime.GOOS != "windows" {
		return usageErrorf("--password is for the Windows account a service runs as; other systems need none")
	}
	if err := checkServiceBasedir(basedir); err != nil {
		return err
	}
	d, err := serviceDefinition(basedir, opts, true)
	if err != nil {
		return err
	}
	if opts.dryRun {
		manager := opts.manager
		if manager == "" {
			manager = systemManager()
		}
		text, err := serviceDefinitionText(d, opts.password != "", manager)
		if err != nil {
			return err
		}
		if p := service.Platform(); opts.manager == "" && runtime.GOOS == "linux" && p != "" && p != "linux-systemd" && p != "unix-systemv" {
			fmt.Fprintf(cmd.ErrOrStderr(), "note: this system's service manager is %s, not systemd: install writes its own script, running the same command line\n", p)
		}
		_, err = fmt.Fprint(cmd.OutOrStdout(), text)
		return err
	}
	if err := service.CheckPrivileged(); err != nil {
		return fmt.Errorf("installing a service: %w (or make the worker start at boot without one: 'buildslave boot-hook --help')", err)
	}
	m, err := newServiceManager(d, opts.password, basedir)
	if err != nil {
		return err
	}
	if err := m.Install(); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "installed service %s (%s), running the worker in %s", d.Name, service.Platform(), d.Basedir)
	if d.User != "" {
		fmt.Fprintf(out, " as %s", d.User)
	}
	fmt.Fprintf(out, "\nit starts at boot; start it now with: %s service start%s %s\n",
		filepath.Base(d.Executable), nameFlag(opts), d.Basedir)
	return nil
}

// serviceControl runs one of the subcommands that act on an installed
// service.
func (a *app) serviceControl(cmd *cobra.Command, verb, basedir string, opts serviceOptions, action func(*service.Manager) error) error {
	d, err := serviceDefinition(basedir, opts, false)
	if err != nil {
		return err
	}
	if err := service.CheckPrivileged(); err != nil {
		return fmt.Errorf("%s service %s: %w", verb, d.Name, err)
	}
	m, err := newServiceManager(d, "", basedir)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	stopping := func() {
		fmt.Fprintf(out, "asking the worker of service %s to stop; a running build may finish first (up to %v)\n",
			d.Name, service.StopTimeout)
	}
	switch verb {
	case "stop", "restart":
		stopping()
	case "uninstall":
		// Some managers remove a running service's definition and leave
		// the worker running, orphaned.
		if st, err := m.Status(); err == nil && st == service.Running {
			stopping()
			if err := m.Stop(); err != nil {
				return err
			}
		}
	}
	if err := action(m); err != nil {
		return err
	}
	st, err := m.Status()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: %s\n", d.Name, st)
	return nil
}

// serviceDefinition builds the definition of basedir's service from the
// options; for the subcommands that only name an installed service, the
// user and program do not matter.
func serviceDefinition(basedir string, opts serviceOptions, full bool) (service.Definition, error) {
	abs, err := filepath.Abs(basedir)
	if err != nil {
		return service.Definition{}, fmt.Errorf("base directory %q: %w", basedir, err)
	}
	d := service.Definition{Name: opts.name, Basedir: abs, User: opts.user}
	if d.Name == "" {
		d.Name = service.DefaultName(abs)
	}
	if d.Executable, err = os.Executable(); err != nil {
		return d, fmt.Errorf("finding this program for the service to run: %w", err)
	}
	if full && d.User == "" {
		if d.User, err = service.DefaultUser(filepath.Join(abs, config.FileName)); err != nil {
			return d, fmt.Errorf("choosing the account the service runs as (give one with --user): %w", err)
		}
	}
	if err := d.Validate(); err != nil {
		return d, err
	}
	return d, nil
}

// checkServiceBasedir explains a base directory no service could run.
func checkServiceBasedir(basedir string) error {
	fi, err := os.Stat(basedir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("base directory %q does not exist: create the worker first with 'buildslave create-slave'", basedir)
	case err != nil:
		return fmt.Errorf("base directory %q: %w", basedir, err)
	case !fi.IsDir():
		return fmt.Errorf("base directory %q is not a directory", basedir)
	}
	return checkWorkerDir(basedir)
}

// newServiceManager connects d to the system's service manager,
// suggesting a boot hook where there is none.
func newServiceManager(d service.Definition, password, basedir string) (*service.Manager, error) {
	m, err := service.NewManager(d, password)
	if errors.Is(err, service.ErrNoServiceManager) {
		return nil, fmt.Errorf("%w (systemd, launchd, SysV, upstart, OpenRC or Windows): "+
			"make the worker start at boot with a boot hook instead, e.g. 'buildslave boot-hook cron %s'", err, basedir)
	}
	return m, err
}

// systemManager names the service manager install writes for: by the
// OS, and on Linux systemd unless kardianos finds SysV init (no systemd as
// PID 1), for which install writes an init script instead.
func systemManager() string {
	if runtime.GOOS == "linux" && service.Platform() == "unix-systemv" {
		return "sysv"
	}
	return runtime.GOOS
}

// serviceDefinitionText renders d as a service manager takes it: manager
// is systemd, sysv, launchd, windows, or an OS name for its own manager.
func serviceDefinitionText(d service.Definition, passwordGiven bool, manager string) (string, error) {
	switch manager {
	case "linux", "systemd":
		return service.SystemdUnit(d)
	case "sysv":
		return service.SysVScript(d)
	case "darwin", "launchd":
		return service.LaunchdPlist(d)
	case "windows":
		return service.WindowsDefinition(d, passwordGiven)
	}
	// rc.d and the like get kardianos' stock script around this command.
	if err := d.Validate(); err != nil {
		return "", err
	}
	return fmt.Sprintf("service %s runs, as %s, in %s:\n  %s start --nodaemon %s\n",
		d.Name, orDefault(d.User, "root"), d.Basedir, d.Executable, d.Basedir), nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// nameFlag repeats --name for the commands a person runs next.
func nameFlag(opts serviceOptions) string {
	if opts.name == "" {
		return ""
	}
	return " --name " + opts.name
}
