package service

import (
	"fmt"
	"strings"
)

// SystemdUnit returns the systemd unit that runs d.
//
// Stopping the unit sends SIGTERM to the worker alone (KillMode=mixed):
// the worker asks the master for a graceful shutdown and its running build
// goes on. Only if the worker is still there after TimeoutStopSec does
// systemd send SIGKILL, to every process of the unit, so no build process
// outlives the service. The worker writes no PID file systemd would need:
// it stays in the foreground as the unit's main process.
func SystemdUnit(d Definition) (string, error) {
	if err := d.Validate(); err != nil {
		return "", err
	}
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("# Buildbot worker %s, written by 'buildslave service install'.", d.Name)
	line("[Unit]")
	line("Description=Buildbot worker (buildslave) in %s", systemdEscapeSpecifiers(d.Basedir))
	line("Wants=network-online.target")
	line("After=network-online.target")
	line("")
	line("[Service]")
	line("Type=simple")
	if d.User != "" {
		line("User=%s", systemdEscapeSpecifiers(d.User))
	}
	line("WorkingDirectory=%s", systemdEscapeSpecifiers(d.Basedir))
	line("ExecStart=%s", systemdCommand(append([]string{d.Executable}, d.unixArguments()...)))
	line("KillMode=mixed")
	line("KillSignal=SIGTERM")
	line("TimeoutStopSec=%d", int(StopTimeout.Seconds()))
	line("Restart=always")
	line("RestartSec=%d", int(RestartDelay.Seconds()))
	line("")
	line("[Install]")
	line("WantedBy=multi-user.target")
	return b.String(), nil
}

// systemdEscapeSpecifiers keeps systemd from expanding %-specifiers in a
// literal value.
func systemdEscapeSpecifiers(v string) string {
	return strings.ReplaceAll(v, "%", "%%")
}

// systemdCommand writes argv as an ExecStart= command line. Words with
// nothing special stay bare; others are double-quoted with C-style
// escapes. '%' and '$' are doubled everywhere, since systemd expands
// specifiers and environment variables inside quotes too.
func systemdCommand(argv []string) string {
	words := make([]string, len(argv))
	for i, arg := range argv {
		arg = strings.ReplaceAll(systemdEscapeSpecifiers(arg), "$", "$$")
		if arg != "" && !strings.ContainsAny(arg, " \t\"'\\;") {
			words[i] = arg
			continue
		}
		arg = strings.ReplaceAll(arg, `\`, `\\`)
		arg = strings.ReplaceAll(arg, `"`, `\"`)
		words[i] = `"` + arg + `"`
	}
	return strings.Join(words, " ")
}
