//go:build !windows

package command

// envName returns name: off Windows, environment names are
// case-sensitive (see envname_windows.go).
func envName(_ map[string]string, name string) string { return name }
