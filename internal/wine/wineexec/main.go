//go:build linux

// Command wineexec runs a Windows test binary under Wine, for
// `GOOS=windows go test -exec wineexec`: it prepares the test prefix (see
// package wine) once and runs the binary in it, with the exit status as
// its own.
//
// `wineexec -overlay DIR` instead writes a `go build -overlay` file in DIR
// and prints its path. Go's os.RemoveAll deletes through
// FileDispositionInformationEx and falls back to the older call on the
// statuses real Windows returns for an unsupported class, but Wine 8
// answers STATUS_NOT_IMPLEMENTED, so every t.TempDir cleanup fails under
// it. The overlay adds that status to the fallback's list, for the test
// binaries only; the shipped worker copes on its own where it deletes.
// DIR should be one the go command ignores (its name starting with "_"),
// or ./... would take the copy for a package.
package main

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/buildslave/buildslave/internal/wine"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-overlay" {
		path, err := writeOverlay(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, "wineexec:", err)
			os.Exit(2)
		}
		fmt.Println(path)
		return
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: wineexec PROGRAM.exe [ARGS...] | wineexec -overlay DIR")
		os.Exit(2)
	}
	p, err := wine.Prepare(wine.DefaultDir())
	if err != nil {
		fmt.Fprintln(os.Stderr, "wineexec:", err)
		os.Exit(2)
	}
	args := os.Args[2:]
	if skip := skipPattern(); skip != "" {
		args = append(args, "-test.skip="+skip)
	}
	cmd := p.Command(os.Args[1], args...)
	// Not the files themselves: a Wine helper process started on the way
	// (wineserver, services.exe) would hold them open after the test
	// binary exits, and go test waits for them.
	cmd.Stdin = os.Stdin
	cmd.Stdout, cmd.Stderr = struct{ io.Writer }{os.Stdout}, struct{ io.Writer }{os.Stderr}
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil, errors.Is(err, exec.ErrWaitDelay):
	case errors.As(err, &exit):
		os.Exit(exit.ExitCode())
	default:
		fmt.Fprintln(os.Stderr, "wineexec:", err)
		os.Exit(2)
	}
}

// writeOverlay writes the patched copy of Go's at_windows.go and the
// overlay file naming it into dir. When this Go's source no longer has
// the expected line, it writes an empty overlay and says so.
func writeOverlay(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// The Makefile builds this program with the go command that then builds
	// the tests, so its build-time GOROOT is the one whose source to patch.
	orig := filepath.Join(runtime.GOROOT(), "src", "internal", "syscall", "windows", "at_windows.go") //nolint:staticcheck // see above
	replace := map[string]string{}
	src, err := os.ReadFile(orig)
	if err != nil {
		return "", err
	}
	const anchor = "case STATUS_INVALID_INFO_CLASS,"
	if strings.Count(string(src), anchor) == 1 {
		patched := strings.Replace(string(src), anchor,
			"case NTStatus(0xC0000002), // STATUS_NOT_IMPLEMENTED: Wine\n\t\tSTATUS_INVALID_INFO_CLASS,", 1)
		copyPath := filepath.Join(dir, "at_windows.go")
		if err := os.WriteFile(copyPath, []byte(patched), 0o644); err != nil {
			return "", err
		}
		replace[orig] = copyPath
	} else {
		fmt.Fprintf(os.Stderr, "wineexec: %s has changed; no overlay (t.TempDir cleanups may fail under Wine)\n", orig)
	}
	b, err := json.Marshal(map[string]any{"Replace": replace})
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "overlay.json")
	return path, os.WriteFile(path, b, 0o644)
}

// skips lists the tests not run under Wine, and why.
//
//go:embed skips.txt
var skips string

// skipPattern returns the -test.skip pattern for the package being tested
// (go test runs its binary in the package's directory), saying on stderr
// what it skips and why, or "" if it skips nothing.
func skipPattern() string {
	pkg, ok := packageDir()
	if !ok {
		return ""
	}
	var names []string
	for _, line := range strings.Split(skips, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 3 || strings.HasPrefix(fields[0], "#") || fields[0] != pkg {
			continue
		}
		names = append(names, "^"+fields[1]+"$")
		fmt.Fprintf(os.Stderr, "wineexec: skipping %s: %s\n", fields[1], strings.Join(fields[2:], " "))
	}
	return strings.Join(names, "|")
}

// packageDir is the working directory relative to the module's root.
func packageDir() (string, bool) {
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for root := wd; ; root = filepath.Dir(root) {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			rel, err := filepath.Rel(root, wd)
			return filepath.ToSlash(rel), err == nil
		}
		if filepath.Dir(root) == root {
			return "", false
		}
	}
}
