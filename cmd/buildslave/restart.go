package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newRestartCommand(a *app) *cobra.Command {
	var opts startOptions
	cmd := &cobra.Command{
		Use:   "restart [flags] [BASEDIR]",
		Short: "Restart a worker",
		Long: `Stop the worker of BASEDIR (default: the current directory) if it runs, then
start it as start does.`,
		Args: atMostOneBasedir,
		RunE: func(cmd *cobra.Command, args []string) error {
			basedir := basedirArg(args)
			out := progress(cmd.OutOrStdout(), opts.quiet)
			err := stopWorker(out, basedir, stopGrace)
			switch {
			case errors.Is(err, errNotRunning):
				out("no old worker process found to stop")
			case err != nil:
				return err
			}
			out("now restarting worker process..")
			return a.start(cmd, basedir, opts)
		},
	}
	addStartFlags(cmd, &opts)
	return cmd
}
