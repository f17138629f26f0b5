package service

import (
	"fmt"
	"strings"
)

// WindowsServiceAccount is what the service control manager runs a
// service as when no user is given.
const WindowsServiceAccount = "LocalSystem"

// WindowsDefinition describes the Windows service that runs d, in the
// terms of the Services console and 'sc qc': the service control manager
// keeps its definition in the registry, so there is no file to show.
// passwordGiven only says whether a password will be stored; it is never
// printed.
func WindowsDefinition(d Definition, passwordGiven bool) (string, error) {
	if err := d.Validate(); err != nil {
		return "", err
	}
	account := d.User
	if account == "" {
		account = WindowsServiceAccount
	}
	password := "none"
	if passwordGiven {
		password = "given (not shown)"
	}
	var b strings.Builder
	row := func(k, v string) { fmt.Fprintf(&b, "%-16s %s\n", k+":", v) }
	row("Service name", d.Name)
	row("Display name", displayName(d))
	row("Description", description(d))
	row("Command line", WindowsCommandLine(append([]string{d.Executable}, d.windowsArguments()...)))
	row("Start type", "automatic")
	row("Account", account)
	row("Password", password)
	row("On failure", fmt.Sprintf("restart after %v", RestartDelay))
	row("On stop", "graceful shutdown of the worker; its builds run in a job object that ends with it")
	return b.String(), nil
}

func displayName(d Definition) string {
	return "Buildbot worker " + d.Name
}

func description(d Definition) string {
	return "Buildbot worker (buildslave) in " + d.Basedir
}

// WindowsCommandLine joins argv as Windows programs split it
// (CommandLineToArgvW and the C runtime): words with blanks or quotes are
// quoted, with the backslashes before a quote doubled.
func WindowsCommandLine(argv []string) string {
	words := make([]string, len(argv))
	for i, arg := range argv {
		words[i] = windowsQuote(arg)
	}
	return strings.Join(words, " ")
}

func windowsQuote(arg string) string {
	if arg != "" && !strings.ContainsAny(arg, " \t\"") {
		return arg
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for _, r := range arg {
		switch r {
		case '\\':
			slashes++
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes+1))
			slashes = 0
			b.WriteRune(r)
			continue
		default:
			slashes = 0
		}
		if r != '\\' {
			b.WriteRune(r)
		} else {
			b.WriteByte('\\')
		}
	}
	b.WriteString(strings.Repeat(`\`, slashes))
	b.WriteByte('"')
	return b.String()
}
