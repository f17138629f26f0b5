package command

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A download whose master side panics (a bug, not a crash) still removes
// its temporary file: the runner survives the panic, and so must the
// cleanup.
func TestDownloadPanicLeavesNoTempFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dl.bin")
	r := &fakeReader{data: []byte("0123456789"), onRead: func(n int) {
		if n == 2 {
			panic("reader bug")
		}
	}}
	sink := runCommand(t, "downloadFile", downloadArgs(path, r, 4, nil, nil))
	if sink.failure == nil {
		t.Error("the panic was not reported")
	}
	if extra := leftovers(t, dir); extra != nil {
		t.Errorf("left behind: %v", extra)
	}
}

// What a download records while it runs names its temporary file; the
// next start removes that file, and never one whose name is not ours.
func TestCleanLeftoversRemovesPartialDownloads(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "b1", "build")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "big.bin")

	// A download that is "killed" half-way: its record stays.
	var tmp string
	r := &fakeReader{data: bytes.Repeat([]byte("x"), 100)}
	d := &download{args: downloadArgs(path, r, 10, nil, nil), log: slog.New(slog.DiscardHandler), basedir: base}
	p, err := readDownloadParams(d.args)
	if err != nil {
		t.Fatal(err)
	}
	f, _, err := d.openTemp(p) // the release is never called: the worker died
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte("partial"))
	f.Close()
	tmp = f.Name()
	if !partialName.MatchString(filepath.Base(tmp)) {
		t.Fatalf("temporary name %q does not match the pattern the cleanup trusts", tmp)
	}
	// A file of the user's, and a forged record naming it.
	mine := filepath.Join(dir, "precious.txt")
	if err := os.WriteFile(mine, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	release := recordLeftover(base, leftover{Kind: "partial", Path: mine}, slog.New(slog.DiscardHandler))
	_ = release

	var logged strings.Builder
	CleanLeftovers(base, slog.New(slog.NewTextHandler(&logged, nil)))
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("the partial download %s is still there (%v)", tmp, err)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("a file not ours was removed: %v", err)
	}
	if extra := leftovers(t, dir, "precious.txt"); extra != nil {
		t.Errorf("left behind: %v", extra)
	}
	if recs, _ := filepath.Glob(filepath.Join(base, leftoverPrefix+"*")); len(recs) != 0 {
		t.Errorf("records left: %v", recs)
	}
	if !strings.Contains(logged.String(), "removed the partial download") || !strings.Contains(logged.String(), tmp) {
		t.Errorf("log %q does not say what was removed", logged.String())
	}
}
