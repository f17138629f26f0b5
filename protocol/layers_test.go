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
