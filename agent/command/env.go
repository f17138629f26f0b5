package command

import (
	"fmt"
	"log/slog"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
)

// Environment is what a command needs to know about the worker it runs in.
type Environment struct {
	// Basedir is the worker's absolute base directory. The reference worker
	// runs with it as its current directory, so relative paths resolve
	// against it.
	Basedir string
	// BuilderDir is the directory of the builder running the command.
	BuilderDir string
	// Environ is the worker's environment in os.Environ form, with secrets
	// already removed. Commands start from it and substitute ${NAME} from it.
	Environ []string
	// Encoding is the worker's unicode_encoding, a Python codec name
	// (see pytext.Check); "" means UTF-8.
	Encoding string
	// Logger receives what the worker logs locally about the command; nil
	// discards.
	Logger *slog.Logger
	// StartProcess, if set, runs each start of a command's process: start
	// forks on the calling thread, so StartProcess can give the child
	// what the worker was given (its timer slack) for that moment. nil
	// runs start as it is.
	StartProcess func(start func() error) error
}

// startProcess runs start through StartProcess.
func (e *Environment) startProcess(start func() error) error {
	if e == nil || e.StartProcess == nil {
		return start()
	}
	return e.StartProcess(start)
}

func (e *Environment) logger() *slog.Logger {
	if e == nil || e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

// substRef matches the ${NAME} references the reference worker expands in
// env values; $NAME without braces is deliberately left alone.
var substRef = regexp.MustCompile(`\$\{([0-9a-zA-Z_]*)\}`)

// MergeEnv applies a shell command's env argument to the worker environment
// environ (COMMANDS.md §2.3) and returns the result as NAME=value entries
// sorted by name. In overrides a list value is joined with the OS path list
// separator, nil removes the variable, ${NAME} is replaced by NAME's value
// in environ (or by nothing), and a PYTHONPATH value gets the separator and
// the worker's own PYTHONPATH appended. Any other value type is an error.
//
// Unlike the reference, which crashes on it, PYTHONPATH: None removes the
// variable like any other None.
func MergeEnv(environ []string, overrides map[string]any) ([]string, error) {
	merged, err := mergeEnv(environ, overrides)
	if err != nil {
		return nil, err
	}
	return envList(merged), nil
}

// mergeEnv is MergeEnv with the result as a map.
func mergeEnv(environ []string, overrides map[string]any) (map[string]string, error) {
	orig := envMap(environ)
	merged := maps.Clone(orig)
	lookup := func(ref string) string {
		return orig[envName(orig, ref[len("${"):len(ref)-len("}")])]
	}
	for key, raw := range overrides {
		// On Windows, where names are case-insensitive, the master's PATH
		// replaces the worker's Path rather than standing beside it.
		if name := envName(merged, key); name != key {
			delete(merged, name)
		}
		if raw == nil {
			delete(merged, key)
			continue
		}
		value, err := envValue(key, raw)
		if err != nil {
			return nil, err
		}
		if key == "PYTHONPATH" {
			// Appended before substitution, as the reference does, so the
			// worker's value comes in through ${PYTHONPATH}.
			value += string(os.PathListSeparator) + "${PYTHONPATH}"
		}
		merged[key] = substRef.ReplaceAllStringFunc(value, lookup)
	}
	return merged, nil
}

// envValue returns an env argument value as one string: text as is, a list
// of texts joined with the path list separator.
func envValue(key string, raw any) (string, error) {
	if s, ok := TextValue(raw); ok {
		return s, nil
	}
	if list, ok := raw.([]any); ok {
		parts := make([]string, len(list))
		for i, e := range list {
			s, ok := TextValue(e)
			if !ok {
				return "", envValueError(key)
			}
			parts[i] = s
		}
		return strings.Join(parts, string(os.PathListSeparator)), nil
	}
	return "", envValueError(key)
}

func envValueError(key string) error {
	return fmt.Errorf("'env' values must be strings or lists; key '%s' is incorrect", key)
}

// envMap parses os.Environ-style entries; a later duplicate wins.
func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		// Start looking for '=' after the first byte: Windows keeps
		// per-drive directories in variables named like "=C:".
		if len(kv) == 0 {
			continue
		}
		i := strings.IndexByte(kv[1:], '=')
		if i < 0 {
			continue
		}
		m[kv[:i+1]] = kv[i+2:]
	}
	return m
}

// envList turns m into NAME=value entries sorted by name, the order the
// header shows them in.
func envList(m map[string]string) []string {
	names := slices.Sorted(maps.Keys(m))
	list := make([]string, len(names))
	for i, n := range names {
		list[i] = n + "=" + m[n]
	}
	return list
}

// checkEnvNames refuses the names the reference's exec refuses: empty ones
// and ones with '=' after the first byte (on Windows a leading '=' names a
// per-drive directory) or a NUL byte, which would set a different variable
// than the one asked for. The reference's child fails with rc 1, and so
// does a command here.
func checkEnvNames(env map[string]any) error {
	for _, name := range slices.Sorted(maps.Keys(env)) {
		if name == "" || strings.IndexByte(name[1:], '=') >= 0 || strings.IndexByte(name, 0) >= 0 {
			return fmt.Errorf("illegal environment variable name %s", pyRepr(name))
		}
	}
	return nil
}
