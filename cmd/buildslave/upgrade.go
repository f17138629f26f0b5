package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/buildslave/buildslave/config"
)

// Names of the Python worker's configuration and of the copy upgrade-slave
// keeps of it.
const (
	tacFileName   = "buildbot.tac"
	tacBackupName = "buildbot.tac.bak"
)

func newUpgradeCommand(a *app) *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:     "upgrade-slave [flags] [BASEDIR]",
		Aliases: []string{"upgrade-worker"},
		Short:   "Convert a buildbot-worker or buildslave 0.8 directory",
		Long: `Convert the worker directory BASEDIR (default: the current directory), made
by buildbot-worker create-worker (3.x, 4.x) or buildslave create-slave (0.8),
to buildslave: read the settings of its buildbot.tac, without running it,
write them to ` + config.FileName + ` (mode 0600) and rename buildbot.tac to
` + tacBackupName + `, so that it is clear which file is in force and the old one
can be put back. info/ and the builders' directories are left as they are.

It prints the settings carried over and any line of the tac it could not
understand; those lines' effects are not carried over. A tac it cannot read
at all changes nothing.`,
		Args: atMostOneBasedir,
		RunE: func(cmd *cobra.Command, args []string) error {
			return upgradeWorker(progress(cmd.OutOrStdout(), quiet), basedirArg(args))
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing but errors")
	return cmd
}

// upgradeWorker converts basedir's buildbot.tac into a configuration file.
// Every check comes before the first change, and a failure after it undoes
// what was done, so that an error always leaves the directory as it was.
func upgradeWorker(out printer, basedir string) error {
	tacPath := filepath.Join(basedir, tacFileName)
	cfgPath := filepath.Join(basedir, config.FileName)
	backupPath := filepath.Join(basedir, tacBackupName)
	nothingChanged := func(err error) error {
		return fmt.Errorf("cannot upgrade %s: %w; nothing was changed", basedir, err)
	}
	text, err := os.ReadFile(tacPath)
	if err != nil {
		return nothingChanged(err)
	}
	for _, p := range []string{cfgPath, backupPath} {
		if _, err := os.Lstat(p); err == nil {
			return nothingChanged(fmt.Errorf("%s already exists", p))
		} else if !errors.Is(err, os.ErrNotExist) {
			return nothingChanged(err)
		}
	}
	tac, err := config.ParseTac(string(text))
	if err != nil {
		if tac != nil {
			printNotUnderstood(out, tac)
		}
		return nothingChanged(fmt.Errorf("%s: %w", tacPath, err))
	}
	cfg := tac.Config
	abs, err := filepath.Abs(basedir)
	if err != nil {
		return nothingChanged(err)
	}
	if !cfg.Relocatable && filepath.Clean(cfg.Basedir) != abs {
		out("note: the tac's basedir is %s, not %s; builds keep running there (edit basedir in %s to change it)",
			cfg.Basedir, abs, config.FileName)
	}
	if err := cfg.Validate(); err != nil {
		return nothingChanged(fmt.Errorf("the tac's settings: %w", err))
	}
	if err := cfg.Write(basedir); err != nil {
		return nothingChanged(err)
	}
	if err := os.Rename(tacPath, backupPath); err != nil {
		os.Remove(cfgPath)
		return nothingChanged(fmt.Errorf("keeping the old tac as %s: %w", tacBackupName, err))
	}

	out("carried over from %s:", tacPath)
	for _, s := range tac.Settings {
		out("  %s", s)
	}
	if cfg.NoLogRotate {
		out("  (no logging block: no_logrotate = true)")
	}
	for _, n := range tac.Notes {
		out("note: %s", n)
	}
	printNotUnderstood(out, tac)
	out("wrote %s; the old tac is now %s", cfgPath, backupPath)
	out("start the worker with 'buildslave start %s'", basedir)
	return nil
}

func printNotUnderstood(out printer, tac *config.Tac) {
	if len(tac.NotUnderstood) == 0 {
		return
	}
	out("not understood, and not carried over (check %s by hand):", config.FileName)
	for _, s := range tac.NotUnderstood {
		out("  %s", s)
	}
}
