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
	"strings"

	"github.com/spf13/cobra"

	"github.com/buildslave/buildslave/agent"
	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/internal/timerslack"
)

// version is set at build time: go build -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() {
	oneProcUnlessSet(os.LookupEnv)
	a := &app{
		version:   version,
		stdout:    os.Stdout,
		stderr:    os.Stderr,
		runWorker: agent.Run,
		relaxTimers: func() (*timerslack.Relaxed, error) {
			return timerslack.Relax(workerTimerSlack)
		},
	}
	os.Exit(a.main(context.Background(), os.Args[1:]))
}

// app is what the commands share. Tests build their own, with a fake
// worker in place of agent.Run.
type app struct {
	version        string
	stdout, stderr io.Writer
	runWorker      func(context.Context, *config.Config, agent.Options) error
	// relaxTimers, if set, is called first thing by the worker process
	// and may execute the program again (package timerslack); tests
	// leave it nil.
	relaxTimers func() (*timerslack.Relaxed, error)
}

// main runs the command line args and returns the process's exit status.
func (a *app) main(ctx context.Context, args []string) int {
	root := newRootCommand(a)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	if code := exitCode(0); errors.As(err, &code) {
		return int(code)
	}
	if ue := (*usageError)(nil); errors.As(err, &ue) {
		msg := redactUnknownOptions(err.Error(), args, cmd)
		fmt.Fprintf(a.stderr, "buildslave: %s\n", msg)
		if msg != err.Error() {
			fmt.Fprintln(a.stderr, "(a password that begins with '-' must come after '--': create-slave [options] -- BASEDIR MASTER NAME PASSWORD)")
		}
		fmt.Fprintf(a.stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return 1
	}
	fmt.Fprintf(a.stderr, "buildslave: %v\n", err)
	return exitStatus(err)
}

// redactUnknownOptions hides, in a flag parser's message, what may be a
// password beginning with '-' that the parser took for options: its error
// messages quote what they could not parse, all of it or the letters after
// a short option. Only arguments that are certainly options are left alone:
// long options cmd has, and clusters of its boolean short options.
func redactUnknownOptions(msg string, args []string, cmd *cobra.Command) string {
	for _, arg := range args {
		if arg == "--" {
			break
		}
		if len(arg) < 2 || arg[0] != '-' || isCertainlyOption(arg, cmd) {
			continue
		}
		// Longest suffixes first, so that a shorter one does not split
		// a longer quote.
		for i := 1; len(arg)-i >= 2; i++ {
			msg = strings.ReplaceAll(msg, arg[i:], "[redacted]")
		}
	}
	return msg
}

func isCertainlyOption(arg string, cmd *cobra.Command) bool {
	flags := cmd.Flags()
	if name, ok := strings.CutPrefix(arg, "--"); ok {
		name, _, _ = strings.Cut(name, "=")
		return flags.Lookup(name) != nil
	}
	if len(arg) == 2 {
		return flags.ShorthandLookup(arg[1:]) != nil
	}
	for _, letter := range arg[1:] {
		f := flags.ShorthandLookup(string(letter))
		if f == nil || f.Value.Type() != "bool" {
			return false
		}
	}
	return true
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
