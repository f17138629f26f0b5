// Command slavealloc is the fleet allocator: a server that tells each
// worker, when it boots, which Buildbot master to connect to, and the
// command-line front end of its database and REST interface.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "slavealloc:", err)
		var u *usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a mistake in the command line.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// env is what a command run sees of the world.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "slavealloc",
		Short: "The fleet allocator: hands each worker its master at boot",
		Long: `slavealloc keeps pools of Buildbot masters and the workers that share them,
and tells each worker, when it asks at boot (GET /gettac/NAME), which master
to connect to: the one it had while that stays enabled, the least loaded
enabled master of its pool when it must change, or the one it is locked to.

Set up:   slavealloc token new admin.token
          slavealloc dbinit -D sqlite:///slavealloc.db
          slavealloc serve -D sqlite:///slavealloc.db --listen 127.0.0.1:8010 --token-file admin.token
Workers:  buildslave create-slave --allocator http://HOST:8010 --allocator-token-file admin.token BASEDIR NAME`,
		Version:           version,
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(
		newDBInitCommand(e), newDBDumpCommand(e), newDBLoadCommand(e),
		newServeCommand(e), newTokenCommand(e), newKeyCommand(e),
		newPoolCommand(e), newMasterCommand(e), newWorkerCommand(e),
	)
	return root.ExecuteContext(ctx)
}

// exactArgs is cobra.ExactArgs with a usage error naming the arguments.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return &usageError{fmt.Errorf("%s takes %s (got %d arguments)", cmd.CommandPath(), names, len(args))}
		}
		return nil
	}
}
