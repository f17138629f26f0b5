// Command buildslave is a Buildbot worker: a drop-in replacement for
// buildbot-worker (formerly buildslave) in one binary. Its commands and
// options are those of buildbot-worker 3.7: create-slave (alias
// create-worker), start, stop and restart.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/buildslave/buildslave/agent"
	"github.com/buildslave/buildslave/config"
)

// version is set at build time: go build -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() {
	a := &app{
		version:   version,
		stdout:    os.Stdout,
		stderr:    os.Stderr,
		runWorker: agent.Run,
	}
	os.Exit(a.main(context.Background(), os.Args[1:]))
}

// app is what the commands share. Tests build their own, with a fake
// worker in place of agent.Run.
type app struct {
	version        string
	stdout, stderr io.Writer
	runWorker      func(context.Context, *config.Config, agent.Options) error
}

// main runs the command line args and returns the process's exit status.
func (a *app) main(ctx context.Context, args []string) int {
	root := newRootCommand(a)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintf(a.stderr, "buildslave: %v\n", err)
	if ue := (*usageError)(nil); errors.As(err, &ue) {
		fmt.Fprintf(a.stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return 1
}

// usageError is a mistake in the command line itself, as opposed to a
// failure while carrying it out: only the former deserves a pointer to
// --help.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}
