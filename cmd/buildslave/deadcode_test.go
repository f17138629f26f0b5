package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// An idle worker's resident memory is mostly the binary's own pages, and
// on Linux a mapped file's pages come in whole page-cache folios: nearly
// all of what is linked is resident, used or not (issue 10, make bench).
// So what the binary links is its memory. These are the packages that
// once made it much larger for nothing a running worker does:
var notLinked = []struct{ symbolPrefix, why string }{
	// cobra reaches text/template only through SetUsageTemplate,
	// SetHelpTemplate and SetVersionTemplate. text/template's executor
	// calls methods by name (reflect.Value.MethodByName), and then the
	// linker keeps every exported method of every type in the program:
	// 3 MB of binary, 1.4 MB of RSS.
	{"text/template.(*state).evalCall", "text/template's executor disables the linker's dead method elimination"},
}

// TestBinaryDeadCodeElimination builds the worker for Linux and checks
// that none of notLinked is in it. It reads symbols, not memory figures,
// so a loaded machine cannot make it fail.
func TestBinaryDeadCodeElimination(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("builds with the go command, which the Windows tests under Wine do not have")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	bin := filepath.Join(t.TempDir(), "buildslave")
	build := exec.Command(goCmd, "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	found := make(map[string]string)
	for _, s := range syms {
		for _, n := range notLinked {
			if _, seen := found[n.symbolPrefix]; !seen && strings.HasPrefix(s.Name, n.symbolPrefix) {
				found[n.symbolPrefix] = s.Name
			}
		}
	}
	for _, n := range notLinked {
		if name, ok := found[n.symbolPrefix]; ok {
			t.Errorf("the worker links %s (%s): %s", name, n.symbolPrefix, n.why)
		}
	}
	// The check must be able to fail: symbols it looks among are there.
	if len(syms) < 1000 {
		t.Fatalf("only %d symbols in the binary: is it stripped?", len(syms))
	}
}
