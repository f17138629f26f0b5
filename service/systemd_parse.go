package service

import (
	"errors"
	"fmt"
	"strings"
)

// SystemdUnitFile is a parsed unit: section name to key to the values the
// key was given, in order.
type SystemdUnitFile map[string]map[string][]string

// Get returns the last value of key in section, as systemd uses it for
// keys that take one value, and whether there was one.
func (u SystemdUnitFile) Get(section, key string) (string, bool) {
	values := u[section][key]
	if len(values) == 0 {
		return "", false
	}
	return values[len(values)-1], true
}

// ParseSystemdUnit parses the subset of the unit file syntax that
// SystemdUnit writes: comments, [Section] headers and Key=Value lines. It
// exists so that tests, ours and a reviewer's, check a generated unit by
// its meaning rather than its bytes.
func ParseSystemdUnit(text string) (SystemdUnitFile, error) {
	unit := SystemdUnitFile{}
	var section map[string][]string
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case line[0] == '[':
			name, ok := strings.CutSuffix(line[1:], "]")
			if !ok || name == "" {
				return nil, fmt.Errorf("line %d: bad section header %q", n+1, line)
			}
			if unit[name] == nil {
				unit[name] = map[string][]string{}
			}
			section = unit[name]
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok {
				return nil, fmt.Errorf("line %d: %q is not Key=Value", n+1, line)
			}
			if section == nil {
				return nil, fmt.Errorf("line %d: %q is outside any section", n+1, line)
			}
			key = strings.TrimSpace(key)
			section[key] = append(section[key], strings.TrimSpace(value))
		}
	}
	return unit, nil
}

// SplitSystemdCommand splits an ExecStart= value into the argv systemd
// runs: words separated by blanks, double- or single-quoted words with
// C-style backslash escapes, "%%" for '%' and "$$" for '$'. It rejects
// the prefixes (-, @, +, !) and the specifiers and variables that
// SystemdUnit never writes.
func SplitSystemdCommand(cmdline string) ([]string, error) {
	var argv []string
	var word strings.Builder
	inWord := false
	var quote rune
	runes := []rune(cmdline)
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		switch {
		case quote == 0 && (r == ' ' || r == '\t'):
			if inWord {
				argv = append(argv, word.String())
				word.Reset()
				inWord = false
			}
			continue
		case quote == 0 && (r == '"' || r == '\'') && !inWord:
			quote = r
			inWord = true
			continue
		case quote != 0 && r == quote:
			quote = 0
			continue
		case r == '\\' && quote != 0:
			i++
			if i == len(runes) {
				return nil, errors.New("command line ends in a backslash")
			}
			r = runes[i]
		case r == '%' || r == '$':
			if i+1 == len(runes) || runes[i+1] != r {
				return nil, fmt.Errorf("command line has an unexpanded %c at %d", r, i)
			}
			i++
		}
		if !inWord && len(argv) == 0 && strings.ContainsRune("-@+!:", r) {
			return nil, fmt.Errorf("command line has the prefix %c, which SystemdUnit never writes", r)
		}
		word.WriteRune(r)
		inWord = true
	}
	if quote != 0 {
		return nil, errors.New("command line has an unterminated quote")
	}
	if inWord {
		argv = append(argv, word.String())
	}
	if len(argv) == 0 {
		return nil, errors.New("empty command line")
	}
	return argv, nil
}
