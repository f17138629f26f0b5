package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/service"
)

// bootHookOptions are the options of the boot-hook subcommands.
type bootHookOptions struct {
	user string
	name string
}

func newBootHookCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "boot-hook",
		Short: "Print a crontab line, launchd plist or scheduled task that starts a worker at boot",
		Long: `Print what starts the worker of BASEDIR at boot without a service: a crontab
@reboot line, a launchd plist, or the schtasks command that creates a
Windows scheduled task. Nothing is installed: add it yourself, as the
instructions printed on stderr say. 'buildslave service' installs a proper
service instead.`,
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "cron [BASEDIR]",
			Short: "Print the crontab line that restarts the worker at boot",
			Args:  atMostOneBasedir,
			RunE: func(cmd *cobra.Command, args []string) error {
				exe, basedir, err := bootHookPaths(basedirArg(args))
				if err != nil {
					return err
				}
				line, err := service.CronLine(exe, basedir)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), line)
				fmt.Fprintln(cmd.ErrOrStderr(), "Add this line with 'crontab -e', as the user who owns the worker directory.")
				return nil
			},
		},
		newBootHookLaunchdCommand(),
		newBootHookSchtasksCommand(),
	)
	return cmd
}

func newBootHookLaunchdCommand() *cobra.Command {
	var opts bootHookOptions
	cmd := &cobra.Command{
		Use:   "launchd [flags] [BASEDIR]",
		Short: "Print a launchd plist that runs the worker from boot on",
		Args:  atMostOneBasedir,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := bootHookDefinition(basedirArg(args), opts, true)
			if err != nil {
				return err
			}
			plist, err := service.LaunchdPlist(d)
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), plist)
			path := "/Library/LaunchDaemons/" + d.Name + ".plist"
			fmt.Fprintf(cmd.ErrOrStderr(), "Save this as %s (owned by root, mode 644), then run:\n  sudo launchctl load -w %s\n", path, path)
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.user, "user", "", "the account the worker runs as (default: the owner of buildslave.cfg)")
	cmd.Flags().StringVar(&opts.name, "name", "", "the job's label (default: buildslave- and BASEDIR's last element)")
	return cmd
}

func newBootHookSchtasksCommand() *cobra.Command {
	var opts bootHookOptions
	cmd := &cobra.Command{
		Use:   "schtasks [flags] [BASEDIR]",
		Short: "Print the schtasks command that creates a task running the worker at startup",
		Args:  atMostOneBasedir,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := bootHookDefinition(basedirArg(args), opts, false)
			if err != nil {
				return err
			}
			line, err := service.SchtasksCommand(d)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), line)
			fmt.Fprint(cmd.ErrOrStderr(), service.SchtasksNote(d))
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.user, "user", "", `the account the task runs as, e.g. .\alice or DOMAIN\alice (default: SYSTEM)`)
	cmd.Flags().StringVar(&opts.name, "name", "", "the task's name (default: buildslave- and BASEDIR's last element)")
	return cmd
}

// bootHookPaths returns this program's and the worker directory's absolute
// paths, after checking that the directory holds a worker: a hook that
// runs at boot is the worst place to find out it does not.
func bootHookPaths(basedir string) (exe, abs string, err error) {
	if err := checkServiceBasedir(basedir); err != nil {
		return "", "", err
	}
	if abs, err = filepath.Abs(basedir); err != nil {
		return "", "", fmt.Errorf("base directory %q: %w", basedir, err)
	}
	if exe, err = os.Executable(); err != nil {
		return "", "", fmt.Errorf("finding this program for the hook to run: %w", err)
	}
	return exe, abs, nil
}

// bootHookDefinition describes the hook's job; ownerIsUser makes the
// worker directory's owner the default user, as for services.
func bootHookDefinition(basedir string, opts bootHookOptions, ownerIsUser bool) (service.Definition, error) {
	exe, abs, err := bootHookPaths(basedir)
	if err != nil {
		return service.Definition{}, err
	}
	d := service.Definition{Name: opts.name, Executable: exe, Basedir: abs, User: opts.user}
	if d.Name == "" {
		d.Name = service.DefaultName(abs)
	}
	if ownerIsUser && d.User == "" {
		if d.User, err = service.DefaultUser(filepath.Join(abs, config.FileName)); err != nil {
			return d, fmt.Errorf("choosing the account the job runs as (give one with --user): %w", err)
		}
	}
	return d, d.Validate()
}
