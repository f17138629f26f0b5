package preflight

import (
	"os/exec"
	"strings"
	"testing"
)

// TestObserversStayAboveAgent keeps the layers of status, metrics and
// check apart: the agent only declares the Observer interface and knows
// nothing of what watches it, and the watchers know nothing of each other
// or of the command line.
func TestObserversStayAboveAgent(t *testing.T) {
	const module = "github.com/buildslave/buildslave/"
	for pkg, forbidden := range map[string][]string{
		"agent":      {"statusfile", "metrics", "preflight", "cmd/"},
		"statusfile": {"metrics", "preflight", "cmd/"},
		"metrics":    {"statusfile", "preflight", "cmd/"},
		"preflight":  {"statusfile", "metrics", "cmd/"},
	} {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", module+pkg).Output()
		if err != nil {
			t.Skipf("go list unavailable: %v", err)
		}
		for _, dep := range strings.Fields(string(out)) {
			rest, ok := strings.CutPrefix(dep, module)
			if !ok {
				continue
			}
			for _, f := range forbidden {
				if rest == strings.TrimSuffix(f, "/") || strings.HasPrefix(rest, f) {
					t.Errorf("package %s depends on %s", pkg, dep)
				}
			}
		}
	}
}
