package protocol

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The layers of the module, enforced here for every machine (depguard in
// .golangci.yaml says the same to golangci-lint). The wire protocols know
// nothing of the worker; the configuration knows nothing of the worker
// either; commands and the bot know no protocol; each protocol adapter
// knows only its own protocol.

const module = "github.com/buildslave/buildslave/"

// packageRules: a package (and, with a trailing "/...", the packages under
// it) must not depend on these packages, directly or through others.
var packageRules = []struct {
	pkg  string
	deny []string // module-relative import paths; "x/..." means x and below
}{
	{"protocol/...", []string{"agent/...", "config/...", "cmd/...", "hostinfo/...", "service/...", "internal/...", "scripts/...", "integration/..."}},
	{"config/...", []string{"agent/...", "protocol/...", "cmd/...", "service/..."}},
	{"agent/command/...", []string{"protocol/...", "agent"}},
	{"internal/pytext/...", []string{"agent/...", "config/...", "protocol/...", "cmd/..."}},
	{"internal/sharedfile/...", []string{"agent/...", "config/...", "protocol/...", "cmd/...", "statusfile/..."}},
	{"internal/plainfile/...", []string{"agent/...", "config/...", "protocol/...", "cmd/...", "statusfile/..."}},
	{"internal/timerslack/...", []string{"agent/...", "config/...", "protocol/...", "cmd/...", "statusfile/..."}},
	{"hostinfo/...", []string{"agent/...", "protocol/...", "cmd/..."}},
	// The agent declares Observer; what watches it sits above it, each
	// watcher on its own.
	{"agent/...", []string{"statusfile/...", "metrics/...", "preflight/...", "cmd/..."}},
	{"statusfile/...", []string{"metrics/...", "preflight/...", "cmd/..."}},
	{"metrics/...", []string{"statusfile/...", "preflight/...", "cmd/..."}},
	{"preflight/...", []string{"statusfile/...", "metrics/...", "cmd/..."}},
}

// fileRules: the non-test files of package agent matching files (and not
// except) must not import these directly. The adapters are files of
// package agent beside the bot, so the package itself cannot be the unit.
var fileRules = []struct {
	files  string
	except []string
	deny   []string
}{
	// The connection loop, the bot and its builders: no protocol at all.
	{"agent/*.go", []string{"agent/pb*.go", "agent/msgpack*.go"}, []string{"protocol/..."}},
	// Each adapter: not the other protocol.
	{"agent/pb*.go", nil, []string{"protocol/msgpack/..."}},
	{"agent/msgpack*.go", nil, []string{"protocol/pb/...", "protocol/jelly/...", "protocol/banana/..."}},
}

func denied(imp string, deny []string) bool {
	rel, ok := strings.CutPrefix(imp, module)
	if !ok {
		return false
	}
	for _, d := range deny {
		if base, ok := strings.CutSuffix(d, "/..."); ok {
			if rel == base || strings.HasPrefix(rel, base+"/") {
				return true
			}
		} else if rel == d {
			return true
		}
	}
	return false
}

func TestPackageLayers(t *testing.T) {
	for _, r := range packageRules {
		out, err := exec.Command("go", "list", "-json", "../"+r.pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", r.pkg, err)
		}
		dec := json.NewDecoder(strings.NewReader(string(out)))
		n := 0
		for dec.More() {
			var p struct {
				ImportPath string
				Deps       []string
			}
			if err := dec.Decode(&p); err != nil {
				t.Fatal(err)
			}
			n++
			for _, dep := range p.Deps {
				if denied(dep, r.deny) {
					t.Errorf("%s depends on %s", p.ImportPath, dep)
				}
			}
		}
		if n == 0 {
			t.Errorf("rule %s matched no package", r.pkg)
		}
	}
}

func TestAgentFileLayers(t *testing.T) {
	for _, r := range fileRules {
		matches, err := filepath.Glob(filepath.Join("..", filepath.FromSlash(r.files)))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range matches {
			rel := filepath.ToSlash(strings.TrimPrefix(m, ".."+string(os.PathSeparator)))
			if strings.HasSuffix(rel, "_test.go") || excepted(rel, r.except) {
				continue
			}
			n++
			f, err := parser.ParseFile(token.NewFileSet(), m, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, spec := range f.Imports {
				imp, _ := strconv.Unquote(spec.Path.Value)
				if denied(imp, r.deny) {
					t.Errorf("%s imports %s", rel, imp)
				}
			}
		}
		if n == 0 && !strings.Contains(r.files, "msgpack") {
			t.Errorf("rule %s matched no file", r.files)
		}
	}
}

func excepted(rel string, except []string) bool {
	for _, e := range except {
		if ok, _ := path.Match(e, rel); ok {
			return true
		}
	}
	return false
}

func TestDeniedMatchesSubpackages(t *testing.T) {
	for imp, want := range map[string]bool{
		module + "agent":                 true,
		module + "agent/command":         true,
		module + "agentx":                false,
		module + "protocol/msgpack":      true,
		"github.com/other/agent/command": false,
	} {
		if got := denied(imp, []string{"agent/...", "protocol/msgpack/..."}); got != want {
			t.Errorf("denied(%s) = %v, want %v", imp, got, want)
		}
	}
}

// TestProtocolsStayApart keeps each wire protocol independent of the
// others: msgpack shares nothing with PB's stack, and PB's stack knows
// nothing of msgpack, so either can change or go without touching the other.
func TestProtocolsStayApart(t *testing.T) {
	const module = "github.com/buildslave/buildslave/"
	mustNot := map[string][]string{
		"protocol/msgpack": {"protocol/pb", "protocol/jelly", "protocol/banana", "agent", "config"},
		"protocol/pb":      {"protocol/msgpack"},
		"protocol/jelly":   {"protocol/msgpack"},
		"protocol/banana":  {"protocol/msgpack"},
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	for pkg, forbidden := range mustNot {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./"+strings.TrimPrefix(pkg, "protocol/")).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			rest, ok := strings.CutPrefix(dep, module)
			if !ok {
				continue
			}
			for _, f := range forbidden {
				if rest == f || strings.HasPrefix(rest, f+"/") {
					t.Errorf("%s depends on %s", pkg, rest)
				}
			}
		}
	}
}
