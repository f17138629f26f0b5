package command

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/buildslave/buildslave/internal/pytext"
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
	// maxLines, if hasMaxLines, is how many lines of stdout and stderr
	// may be sent before the command is killed (max_lines, 4.x masters).
	maxLines    int64
	hasMaxLines bool
	// interruptSignal names the kill signal, without "SIG".
	interruptSignal string

	logfiles      []logfileSpec
	logfilesShown any // the logfiles argument as the header shows it
}

// parseShellArgs checks the arguments. Only workdir and command are
// required; like the reference, unknown keys are ignored and absent ones
// take their defaults. The command and initial_stdin are encoded with
// codec, the worker's unicode_encoding.
func parseShellArgs(args Args, codec pytext.Codec) (*shellConfig, error) {
	cfg := &shellConfig{
		wantStdout:      boolArg(args, "want_stdout", true),
		wantStderr:      boolArg(args, "want_stderr", true),
		logEnviron:      boolArg(args, "logEnviron", true),
		interruptSignal: "KILL",
		logfilesShown:   map[string]any{},
	}
	var ok bool
	if cfg.workdir, ok = TextValue(args["workdir"]); !ok {
		return nil, fmt.Errorf("workdir must be a string, not %s", pytext.TypeName(args["workdir"]))
	}
	var err error
	if cfg.command, err = parseCommand(args["command"], codec); err != nil {
		return nil, err
	}
	switch env := args["env"].(type) {
	case nil:
	case map[string]any:
		cfg.env = env
	default:
		return nil, fmt.Errorf("env must be a dict, not %s", pytext.TypeName(env))
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
		if _, ok := TextValue(v); !ok {
			return nil, fmt.Errorf("initial_stdin must be a string, not %s", pytext.TypeName(v))
		}
		s, err := codec.EncodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("initial_stdin: %w", err)
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
	// 4.x masters always send max_lines, None meaning no limit; as in the
	// reference, 0 is a limit (the first line kills the command).
	if cfg.maxLines, cfg.hasMaxLines, err = intArg(args, "max_lines"); err != nil {
		return nil, err
	}
	if v := args["interruptSignal"]; v != nil {
		s, ok := TextValue(v)
		if !ok {
			return nil, fmt.Errorf("interruptSignal must be a string, not %s", pytext.TypeName(v))
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
	real, fake []string // the list, encoded; for a string, its only element
	words      []string // fake as text, for the first header line
}

func parseCommand(v any, codec pytext.Codec) (commandLine, error) {
	if _, ok := TextValue(v); ok {
		real, fake, err := encodeWord(codec, v, v)
		if err != nil {
			return commandLine{}, fmt.Errorf("command: %w", err)
		}
		return commandLine{text: true, real: []string{real}, fake: []string{fake}, words: []string{codec.DecodeText(fake)}}, nil
	}
	list, ok := v.([]any)
	if !ok {
		return commandLine{}, fmt.Errorf("command must be a string or a list, not %s", pytext.TypeName(v))
	}
	if len(list) == 0 {
		return commandLine{}, fmt.Errorf("command is an empty list")
	}
	c := commandLine{real: make([]string, len(list)), fake: make([]string, len(list)), words: make([]string, len(list))}
	for i, e := range list {
		realValue, fakeValue := e, e
		if _, ok := TextValue(e); !ok {
			if realValue, fakeValue, ok = obfuscated(e); !ok {
				return commandLine{}, fmt.Errorf("command element %d must be a string or an obfuscated tuple, not %s", i, pyRepr(e))
			}
		}
		real, fake, err := encodeWord(codec, realValue, fakeValue)
		if err != nil {
			return commandLine{}, fmt.Errorf("command element %d: %w", i, err)
		}
		c.real[i], c.fake[i], c.words[i] = real, fake, codec.DecodeText(fake)
	}
	return c, nil
}

// encodeWord encodes a command word as the process gets it (real) and as
// it is shown (fake). A secret's encoding error does not show the
// character: the master would display it.
func encodeWord(codec pytext.Codec, realValue, fakeValue any) (real, fake string, err error) {
	if fake, err = codec.EncodeValue(fakeValue); err != nil {
		return "", "", err
	}
	if real, err = codec.EncodeValue(realValue); err != nil {
		if _, ok := errors.AsType[*pytext.EncodeError](err); ok {
			return "", "", fmt.Errorf("a secret has a character that %q cannot encode", codec.Name())
		}
		return "", "", err
	}
	if execTakesText {
		real, _ = TextValue(realValue)
	}
	return real, fake, nil
}

// obfuscated unpacks ("obfuscated", real, fake), which must be text.
func obfuscated(v any) (real, fake any, ok bool) {
	t, ok := v.([]any)
	if !ok || len(t) != 3 {
		return nil, nil, false
	}
	tag, ok1 := TextValue(t[0])
	_, ok2 := TextValue(t[1])
	_, ok3 := TextValue(t[2])
	return t[1], t[2], ok1 && ok2 && ok3 && tag == "obfuscated"
}

// display is the command as the first header line shows it: a string as
// it is, a list quoted for a POSIX shell.
func (c commandLine) display() string {
	if c.text {
		return c.words[0]
	}
	return shellJoin(c.words)
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
		return nil, fmt.Errorf("logfiles must be a dict, not %s", pytext.TypeName(v))
	}
	var specs []logfileSpec
	for _, name := range slices.Sorted(maps.Keys(m)) {
		spec := logfileSpec{name: name}
		switch x := m[name].(type) {
		case map[string]any:
			if spec.filename, ok = TextValue(x["filename"]); !ok {
				return nil, fmt.Errorf("logfile %q: filename must be a string, not %s", name, pytext.TypeName(x["filename"]))
			}
			spec.follow = truthy(x["follow"])
		default:
			if spec.filename, ok = TextValue(x); !ok {
				return nil, fmt.Errorf("logfile %q must be a filename or a dict, not %s", name, pytext.TypeName(x))
			}
		}
		specs = append(specs, spec)
	}
	return specs, nil
}
