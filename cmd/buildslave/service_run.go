package main

import (
	"github.com/spf13/cobra"
)

// newServiceRunCommand is the command line the Windows service manager
// starts; systemd and launchd run 'start --nodaemon' directly.
func newServiceRunCommand(a *app) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:    "run --name SERVICE BASEDIR",
		Short:  "Run the worker under the Windows service manager",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			// No default BASEDIR: a service starts in the system
			// directory, which is no worker's.
			if name == "" || len(args) != 1 {
				return usageErrorf("service run needs --name SERVICE and BASEDIR, as the service was installed with")
			}
			return a.runService(name, args[0])
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the service's name")
	return cmd
}
