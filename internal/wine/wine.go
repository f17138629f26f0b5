//go:build linux

// Package wine runs the Windows build of buildslave and its unit tests
// under Wine, for tests on a Linux host. It is test scaffolding: nothing
// here is part of the worker.
//
// A test uses a Wine prefix of its own, never the user's ~/.wine: Prepare
// creates it (wineboot, which takes tens of seconds the first time) and
// marks it ready, so that every later test, test binary and `go test
// -exec` run of the same build reuses it at no cost. Concurrent callers
// wait for one another on a lock file.
//
// Go 1.22 and later take their random bytes from ProcessPrng in
// bcryptprimitives.dll, which Wine 8 does not export: every Go program
// aborts at start. Prepare builds a stand-in DLL from
// testdata/processprng.c with MinGW-w64 and copies it into the prefix's
// system32.
package wine

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

//go:embed testdata/processprng.c
var processPrngSource []byte

// Programs a Prefix needs on the host: Debian's wine64 and
// gcc-mingw-w64-x86-64 packages.
const (
	wineProgram = "wine"
	ccProgram   = "x86_64-w64-mingw32-gcc"
)

// PrefixEnv names the environment variable that chooses the prefix
// directory; DefaultDir is used without it.
const PrefixEnv = "BUILDSLAVE_WINEPREFIX"

// Check reports why Wine cannot be used here, or nil if it can.
func Check() error {
	for _, p := range []string{wineProgram, "wineserver", ccProgram} {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("%s not installed (Debian packages wine64 and gcc-mingw-w64-x86-64): %w", p, err)
		}
	}
	return nil
}

// DefaultDir is the prefix directory: $BUILDSLAVE_WINEPREFIX, or one per
// user in the temporary directory.
func DefaultDir() string {
	if d := os.Getenv(PrefixEnv); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("buildslave-wine-%d", os.Getuid()))
}

// Prefix is a ready Wine prefix.
type Prefix struct {
	// Dir is the prefix directory (WINEPREFIX), absolute.
	Dir string
}

// stampName marks a prefix as ready; it holds what it was made from, so
// that a changed DLL source or Wine version makes a new prefix.
const stampName = ".buildslave-ready"

// Prepare returns the prefix in dir, creating it first if it is not ready.
func Prepare(dir string) (*Prefix, error) {
	if err := Check(); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	p := &Prefix{Dir: dir}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("wine prefix: %w", err)
	}
	lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("wine prefix lock: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return nil, fmt.Errorf("wine prefix lock: %w", err)
	}
	defer func() { _ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) }()

	want, err := p.stamp()
	if err != nil {
		return nil, err
	}
	if got, err := os.ReadFile(filepath.Join(dir, stampName)); err == nil && bytes.Equal(got, want) {
		p.keepServer()
		return p, nil
	}
	if err := p.create(); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, stampName), want, 0o644); err != nil {
		return nil, fmt.Errorf("wine prefix: %w", err)
	}
	p.keepServer()
	return p, nil
}

// stamp identifies what a prefix is made from.
func (p *Prefix) stamp() ([]byte, error) {
	version, err := exec.Command(wineProgram, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("wine --version: %w", err)
	}
	sum := sha256.Sum256(processPrngSource)
	return []byte(strings.TrimSpace(string(version)) + " " + hex.EncodeToString(sum[:]) + "\n"), nil
}

// create makes a new prefix: wineboot, then the ProcessPrng DLL.
func (p *Prefix) create() error {
	if err := os.RemoveAll(p.Dir); err != nil {
		return fmt.Errorf("wine prefix: %w", err)
	}
	start := time.Now()
	boot := exec.Command("wineboot", "--init")
	boot.Env = p.Env()
	if out, err := boot.CombinedOutput(); err != nil {
		return fmt.Errorf("wineboot in %s: %w\n%s", p.Dir, err, out)
	}
	// wineboot returns before the prefix is fully written; the server
	// ending says it is.
	wait := exec.Command("wineserver", "--wait")
	wait.Env = p.Env()
	if out, err := wait.CombinedOutput(); err != nil {
		return fmt.Errorf("wineserver --wait: %w\n%s", err, out)
	}
	system32 := filepath.Join(p.Dir, "drive_c", "windows", "system32")
	if _, err := os.Stat(system32); err != nil {
		return fmt.Errorf("wineboot left no system32: %w", err)
	}
	if err := buildProcessPrng(filepath.Join(system32, "bcryptprimitives.dll")); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wine: prefix %s ready in %s\n", p.Dir, time.Since(start).Round(time.Second))
	return nil
}

// buildProcessPrng compiles testdata/processprng.c into the DLL at dst.
func buildProcessPrng(dst string) error {
	tmp, err := os.MkdirTemp("", "buildslave-processprng-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	src := filepath.Join(tmp, "processprng.c")
	if err := os.WriteFile(src, processPrngSource, 0o644); err != nil {
		return err
	}
	out, err := exec.Command(ccProgram, "-shared", "-O2", "-o", dst, src, "-ladvapi32").CombinedOutput()
	if err != nil {
		return fmt.Errorf("building the ProcessPrng DLL: %w\n%s", err, out)
	}
	return nil
}

// keepServer starts the prefix's wineserver, kept for a minute after its
// last client, so that the many short Wine runs of a test session do not
// each pay for its start-up, and runs a program once so that Wine's own
// services (services.exe, winedevice.exe...) start now with no output
// of ours: started by a test's program, they would hold its output
// pipes open for as long as they live. Failure only costs time.
func (p *Prefix) keepServer() {
	s := exec.Command("wineserver", "--persistent=60")
	s.Env = p.Env()
	_ = s.Run()
	_ = p.Command("cmd.exe", "/c", "exit").Run()
}

// Env returns the host environment with what Wine needs for this prefix:
// no debug chatter, and no dialogs offering to install Mono or Gecko.
func (p *Prefix) Env() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "WINEPREFIX", "WINEDEBUG", "WINEDLLOVERRIDES", "DISPLAY", "WAYLAND_DISPLAY":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "WINEPREFIX="+p.Dir, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml=")
}

// Command returns a command that runs the Windows program exe (a host
// path or a Windows one) with args under Wine in this prefix.
func (p *Prefix) Command(exe string, args ...string) *exec.Cmd {
	cmd := exec.Command(wineProgram, append([]string{exe}, args...)...)
	cmd.Env = p.Env()
	return cmd
}

// WindowsPath is the path under which Windows programs in Wine see the
// host path host: Wine maps / to drive Z:.
func WindowsPath(host string) string {
	abs, err := filepath.Abs(host)
	if err != nil {
		abs = host
	}
	return `Z:` + strings.ReplaceAll(abs, "/", `\`)
}

// HostProcesses returns the command lines of the host's processes that
// contain marker. Windows processes under Wine are host processes, whose
// command line Wine sets to the Windows one.
func HostProcesses(marker string) ([]string, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	self := fmt.Sprint(os.Getpid())
	var found []string
	for _, e := range entries {
		if e.Name() == self || strings.Trim(e.Name(), "0123456789") != "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue // ended meanwhile, or not ours to read
		}
		line := strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
		if strings.Contains(line, marker) {
			found = append(found, e.Name()+": "+line)
		}
	}
	return found, nil
}
