//go:build windows

package command

import (
	"slices"
	"testing"
)

// The master's PATH replaces the worker's Path, and ${path} finds it:
// Windows' names are case-insensitive, and with both spellings in the
// block a child would see one of them at random.
func TestMergeEnvIsCaseInsensitive(t *testing.T) {
	got, err := MergeEnv([]string{`Path=C:\bin`, "Temp=C:\\t"}, map[string]any{
		"PATH":  `C:\tools;${path}`,
		"TEMP":  nil,
		"OTHER": "${PATH}",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`OTHER=C:\bin`, `PATH=C:\tools;C:\bin`}
	if !slices.Equal(got, want) {
		t.Errorf("MergeEnv = %q, want %q", got, want)
	}
}
