package protocol

import (
	"os/exec"
	"strings"
	"testing"
)

// TestProtocolStaysBelowAgent keeps the layers apart: the codecs and the
// broker must not reach up into the worker's logic or configuration, or the
// second protocol could not share the command layer cleanly.
func TestProtocolStaysBelowAgent(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./...").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	const module = "github.com/buildslave/buildslave/"
	for _, dep := range strings.Fields(string(out)) {
		if !strings.HasPrefix(dep, module) {
			continue
		}
		if rest := strings.TrimPrefix(dep, module); !strings.HasPrefix(rest, "protocol") {
			t.Errorf("package protocol/... depends on %s", dep)
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
