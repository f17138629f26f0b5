package main

import (
	"fmt"

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
		SilenceErrors: true,
		SilenceUsage:  true,
		// Commands are those of buildbot-worker: no shell completion
		// command.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	// --version is ours, not cobra's: cobra prints its version through
	// text/template unless the text is its own, and text/template's
	// executor calls methods by name through reflect, which makes the
	// linker keep every exported method of every type: the binary was
	// 3 MB and an idle worker 1.4 MB larger for one line of output.
	// TestBinaryDeadCodeElimination keeps it out.
	var showVersion bool
	root.Flags().BoolVarP(&showVersion, "version", "v", false, "version for buildslave")
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		if showVersion {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "buildslave %s\n", a.version)
			return err
		}
		return cmd.Help()
	}
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
