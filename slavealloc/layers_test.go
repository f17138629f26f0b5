package slavealloc

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/buildslave/buildslave/"

func deps(t *testing.T, pkgs ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-deps", "-f", "{{.ImportPath}}"}, pkgs...)...).Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	var mine []string
	for _, d := range strings.Fields(string(out)) {
		if rest, ok := strings.CutPrefix(d, module); ok {
			mine = append(mine, rest)
		}
	}
	return mine
}

// TestAllocatorApartFromWorker keeps the two programs apart: the allocator
// shares only the worker's configuration (its tac reader and writer), and
// the worker binary carries none of the allocator (its database drivers
// would triple its size).
func TestAllocatorApartFromWorker(t *testing.T) {
	for _, d := range deps(t, "../slavealloc/...", "../cmd/slavealloc") {
		switch {
		case d == "agent", strings.HasPrefix(d, "protocol"), d == "service", d == "hostinfo", d == "cmd/buildslave":
			t.Errorf("the allocator depends on the worker's %s", d)
		}
	}
	for _, d := range deps(t, "../cmd/buildslave") {
		if strings.HasPrefix(d, "slavealloc") {
			t.Errorf("the worker binary depends on %s", d)
		}
	}
	out, err := exec.Command("go", "list", "-deps", "../cmd/buildslave").Output()
	if err == nil && (strings.Contains(string(out), "modernc.org/sqlite") || strings.Contains(string(out), "jackc/pgx")) {
		t.Error("the worker binary links a database driver")
	}
}
