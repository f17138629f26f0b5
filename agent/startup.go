package agent

import (
	"log/slog"

	"github.com/buildslave/buildslave/agent/command"
	"github.com/buildslave/buildslave/config"
)

// prepareRun readies the process and the base directory before the first
// connection: commands must not inherit the descriptors the worker
// inherited, and what a previous run killed outright left behind (process
// groups, partial downloads) is dealt with before new commands start.
func prepareRun(cfg *config.Config, logger *slog.Logger) {
	command.KeepDescriptorsFromChildren()
	command.CleanLeftovers(cfg.Basedir, logger)
}
