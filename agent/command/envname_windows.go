//go:build windows

package command

import "strings"

// envName returns the name under which env holds the variable name:
// Windows' names are case-insensitive, so the worker's "Path" is the
// master's "PATH". Without one, name itself.
func envName(env map[string]string, name string) string {
	if _, ok := env[name]; ok {
		return name
	}
	for k := range env {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return name
}
