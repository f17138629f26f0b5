package command

import (
	"fmt"
	"maps"
	"slices"
)

// shellConfig holds a shell command's arguments once checked
// (COMMANDS.md §2.1).
type shellConfig struct {
	workdir    string
	command    commandLine
	env        map[string]any
	wantStdout bool
	wantStderr bool
	logEnviron bool
	usePTY     bool
	stdin      []byte
	hasStdin   bool // initial_stdin was given, even empty

	timeout     seconds // without output
	maxTime     seconds // in all
	sigtermTime seconds // between SIGTERM and interruptSignal
	// interruptSignal names the kill signal, without "SIG".
	interruptSignal string

	logfiles      []logfileSpec
	logfilesShown any // the logfiles argument as the header shows it
}

// parseShellArgs checks the arguments. Only workdir and command are
// required; like the reference, unknown keys are ignored and absent ones
// take their defaults.
func parseShellArgs(args Args) (*shellConfig, error) {
	cfg := &shellConfig{
		wantStdout:      boolArg(args, "want_stdout", true),
		wantStderr:      boolArg(args, "want_stderr", true),
		logEnviron:      boolArg(args, "logEnviron", true),
		interruptSignal: "KILL",
		logfilesShown:   map[string]any{},
	}
	var ok bool
	if cfg.workdir, ok = TextValue(args["workdir"]); !ok {
		return nil, fmt.Errorf("workdir must be a string, not %T", args["workdir"])
	}
	var err error
	if cfg.command, err = parseCommand(args["command"]); err != nil {
		return nil, err
	}
	switch env := args["env"].(type) {
	case nil:
	case map[string]any:
		cfg.env = env
	default:
		return nil, fmt.Errorf("env must be a dict, not %T", env)
	}
	switch v := args["usePTY"].(type) {
	case nil:
	case bool:
		cfg.usePTY = v
	default:
		// The reference asserts a bool: an old master's "slave-config"
		// must not silently mean something.
		return nil, fmt.Errorf("unexpected usePTY argument value: %s; expected boolean", pyRepr(v))
	}
	if v := args["initial_stdin"]; v != nil {
		s, ok := TextValue(v)
		if !ok {
			return nil, fmt.Errorf("initial_stdin must be a string, not %T", v)
		}
		cfg.stdin, cfg.hasStdin = []byte(s), true
	}
	if cfg.timeout, err = secondsArg(args, "timeout"); err != nil {
		return nil, err
	}
	if cfg.maxTime, err = secondsArg(args, "maxTime"); err != nil {
		return nil, err
	}
	if cfg.sigtermTime, err = secondsArg(args, "sigtermTime"); err != nil {
		return nil, err
	}
	if v := args["interruptSignal"]; v != nil {
		s, ok := TextValue(v)
		if !ok {
			return nil, fmt.Errorf("interruptSignal must be a string, not %T", v)
		}
		cfg.interruptSignal = s
	}
	if v := args["logfiles"]; v != nil {
		if cfg.logfiles, err = parseLogfiles(v); err != nil {
			return nil, err
		}
		cfg.logfilesShown = v
	}
	return cfg, nil
}

// commandLine is the command to run and what to show of it. An obfuscated
// list element (a secret) runs as its real value and is shown as its fake
// one.
type commandLine struct {
	text       bool     // a command string, run by the shell
	real, fake []string // the list; for a string, its only element
}

func parseCommand(v any) (commandLine, error) {
	if s, ok := TextValue(v); ok {
		return commandLine{text: true, real: []string{s}, fake: []string{s}}, nil
	}
	list, ok := v.([]any)
	if !ok {
		return commandLine{}, fmt.Errorf("command must be a string or a list, not %T", v)
	}
	if len(list) == 0 {
		return commandLine{}, fmt.Errorf("command is an empty list")
	}
	c := commandLine{real: make([]string, len(list)), fake: make([]string, len(list))}
	for i, e := range list {
		if s, ok := TextValue(e); ok {
			c.real[i], c.fake[i] = s, s
			continue
		}
		real, fake, ok := obfuscated(e)
		if !ok {
			return commandLine{}, fmt.Errorf("command element %d must be a string or an obfuscated tuple, not %s", i, pyRepr(e))
		}
		c.real[i], c.fake[i] = real, fake
	}
	return c, nil
}

// obfuscated unpacks ("obfuscated", real, fake).
func obfuscated(v any) (real, fake string, ok bool) {
	t, ok := v.([]any)
	if !ok || len(t) != 3 {
		return "", "", false
	}
	tag, ok1 := TextValue(t[0])
	real, ok2 := TextValue(t[1])
	fake, ok3 := TextValue(t[2])
	return real, fake, ok1 && ok2 && ok3 && tag == "obfuscated"
}

// display is the command as the first header line shows it: a string as
// it is, a list quoted for a POSIX shell.
func (c commandLine) display() string {
	if c.text {
		return decodeText(c.fake[0])
	}
	words := make([]string, len(c.fake))
	for i, w := range c.fake {
		words[i] = decodeText(w)
	}
	return shellJoin(words)
}

// argvRepr is the displayed command as Python shows the bytes the
// reference encodes it to: b'...' for a string, [b'...', ...] for a list.
func (c commandLine) argvRepr() string {
	if c.text {
		return pyRepr([]byte(c.fake[0]))
	}
	return bytesListRepr(c.fake)
}

func bytesListRepr(words []string) string {
	b := make([][]byte, len(words))
	for i, w := range words {
		b[i] = []byte(w)
	}
	return pyRepr(b)
}

// logfileSpec is one entry of the logfiles argument.
type logfileSpec struct {
	name     string
	filename string // relative to the workdir
	follow   bool   // send only what is added after the file first changes
}

// parseLogfiles reads name → filename or name → {"filename": …, "follow":
// …}, sorted by name.
func parseLogfiles(v any) ([]logfileSpec, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("logfiles must be a dict, not %T", v)
	}
	var specs []logfileSpec
	for _, name := range slices.Sorted(maps.Keys(m)) {
		spec := logfileSpec{name: name}
		switch x := m[name].(type) {
		case map[string]any:
			if spec.filename, ok = TextValue(x["filename"]); !ok {
				return nil, fmt.Errorf("logfile %q: filename must be a string, not %T", name, x["filename"])
			}
			spec.follow = truthy(x["follow"])
		default:
			if spec.filename, ok = TextValue(x); !ok {
				return nil, fmt.Errorf("logfile %q must be a filename or a dict, not %T", name, x)
			}
		}
		specs = append(specs, spec)
	}
	return specs, nil
}
