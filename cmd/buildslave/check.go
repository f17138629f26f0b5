package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/preflight"
)

// checkTimeout bounds the whole of check, however many masters it probes.
const checkTimeout = 2 * time.Minute

func newCheckCommand(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check [flags] [BASEDIR]",
		Short: "Check that the worker can work: configuration, master, host",
		Long: `Check the worker of BASEDIR (default: the current directory) before its first
build, or when it does not connect: the configuration is valid; each
master's name resolves, its port answers, TLS handshakes and its certificate
verifies (with TLS), and the far end speaks the configured protocol; the
base directory is writable; the host has the recommended 2 CPUs, 512 MiB of
memory and 30 GiB of free disk (a warning, not a failure).

One line per check: PASS, WARN or FAIL, why, and what to do. Exit status 1
when any check fails. Of several masters, those that fail are only a WARN
while another one passes every check. It never logs in to the master, so it is safe to run
beside a running worker.`,
		Args: atMostOneBasedir,
		RunE: func(cmd *cobra.Command, args []string) error {
			basedir, err := filepath.Abs(basedirArg(args))
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), checkTimeout)
			defer cancel()
			results := preflight.Run(ctx, basedir, func(dir string) (*config.Config, error) {
				cfg, _, err := loadWorkerConfig(dir)
				return cfg, err
			})
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(results); err != nil {
					return err
				}
			} else {
				preflight.Print(cmd.OutOrStdout(), results)
			}
			if preflight.Failed(results) {
				return exitCode(1)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the results as JSON")
	return cmd
}
