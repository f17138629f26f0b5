package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/buildslave/buildslave/agent"
	"github.com/buildslave/buildslave/config"
)

// The daemon tests run this test binary as the background worker, which
// start launches with os.Executable(). These variables, inherited from the
// test, make TestMain act as buildslave with a fake agent instead of
// running tests.
const (
	fakeAgentEnv = "BUILDSLAVE_TEST_FAKE_AGENT" // the fake's behaviour
	sleeperEnv   = "BUILDSLAVE_TEST_SLEEPER"    // just sleep: a live process that is "us"
)

func TestMain(m *testing.M) {
	if os.Getenv(sleeperEnv) != "" {
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	if mode := os.Getenv(fakeAgentEnv); mode != "" && len(os.Args) > 1 && os.Args[1] == "start" {
		a := &app{version: "test", stdout: os.Stdout, stderr: os.Stderr, runWorker: fakeAgent(mode)}
		os.Exit(a.main(context.Background(), os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeAgent stands in for agent.Run, reporting as the real one does.
func fakeAgent(mode string) func(context.Context, *config.Config, agent.Options) error {
	return func(ctx context.Context, cfg *config.Config, opts agent.Options) (err error) {
		report := func(s agent.State, err error) {
			if opts.Status != nil {
				opts.Status(agent.Status{State: s, Err: err})
			}
		}
		defer func() { report(agent.StateStopped, err) }()
		opts.Logger.Info("fake agent running", "config", cfg)
		report(agent.StateConnecting, nil)
		switch mode {
		case "connect":
			report(agent.StateConnected, nil)
		case "once":
			report(agent.StateConnected, nil)
			return nil
		case "refuse":
			report(agent.StateLoginRefused, &agent.LoginRefusedError{Master: cfg.MasterAddr(), Name: cfg.Name})
		case "fail":
			return errors.New("fake failure")
		case "hang":
			report(agent.StateDisconnected, errors.New("connection refused"))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-opts.Shutdown:
			return agent.ErrShutdown
		case <-opts.Stop:
			return agent.ErrShutdown
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// run runs the command line in a test app and returns its exit status and
// output.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	a := &app{version: "test", stdout: &out, stderr: &errOut, runWorker: fakeAgent("once")}
	code = a.main(context.Background(), args)
	return code, out.String(), errOut.String()
}

func TestVersion(t *testing.T) {
	for _, flag := range []string{"--version", "-v"} {
		code, out, _ := run(t, flag)
		if code != 0 || out != "buildslave test\n" {
			t.Errorf("%s: %d %q", flag, code, out)
		}
	}
	// Without a command or --version, the root command shows its help.
	if code, out, _ := run(t); code != 0 || !strings.Contains(out, "Available Commands:") {
		t.Errorf("no arguments: %d %q", code, out)
	}
}

func TestUnknownCommand(t *testing.T) {
	if code, _, errOut := run(t, "frobnicate"); code == 0 || errOut == "" {
		t.Errorf("unknown command: %d %q", code, errOut)
	}
}
