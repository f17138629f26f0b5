package main

import (
	"github.com/spf13/cobra"
)

// newRootCommand builds the command tree. It is built afresh for every run,
// so that no flag value outlives the run that parsed it.
func newRootCommand(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "buildslave",
		Short: "A Buildbot worker",
		Long: "buildslave is a Buildbot worker, a drop-in replacement for buildbot-worker.\n" +
			"Create a worker directory with create-slave, then start it.",
		Version:       a.version,
		SilenceErrors: true,
		SilenceUsage:  true,
		// Commands are those of buildbot-worker: no shell completion
		// command.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetVersionTemplate("buildslave {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &usageError{err}
	})
	root.AddCommand(
		newCreateCommand(a),
		newStartCommand(a),
		newStopCommand(a),
		newRestartCommand(a),
		newUpgradeCommand(a),
		newServiceCommand(a),
		newBootHookCommand(a),
		newStatusCommand(a),
		newCheckCommand(a),
	)
	return root
}

// basedirArg is the optional BASEDIR argument of start, stop and restart,
// which defaults to the current directory as in buildbot-worker.
func basedirArg(args []string) string {
	if len(args) == 0 {
		return "."
	}
	return args[0]
}

// atMostOneBasedir checks the arguments of start, stop and restart.
func atMostOneBasedir(cmd *cobra.Command, args []string) error {
	if len(args) > 1 {
		return usageErrorf("%s takes at most one argument, BASEDIR (got %d)", cmd.Name(), len(args))
	}
	return nil
}
