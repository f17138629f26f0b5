package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/buildslave/buildslave/internal/mastertest"
)

// encodingSteps run on a worker whose unicode_encoding is latin-1: output
// bytes are latin-1 text, arguments and stdin reach the process as latin-1
// bytes, and a character latin-1 lacks fails the step.
const encodingSteps = `
def encoding_factory():
    f = util.BuildFactory()
    f.addStep(steps.ShellCommand(name="output", command="printf '\\351t\\351\\n'", logEnviron=False))
    f.addStep(steps.ShellCommand(name="argument", logEnviron=False,
        command=["sh", "-c", "printf %s \"$1\" | od -An -tx1", "sh", "\u00e9"]))
    f.addStep(steps.ShellCommand(name="stdin", command=["od", "-An", "-tx1"],
        initialStdin="\u00e0", logEnviron=False))
    f.addStep(steps.ShellCommand(name="unencodable", command=["echo", "\u20ac"], logEnviron=False))
    return f

c['builders'].append(util.BuilderConfig(name="ours", workernames=["gw"],
    workerbuilddir="bd", factory=encoding_factory()))
c['builders'].append(util.BuilderConfig(name="reference", workernames=["pw"],
    workerbuilddir="bd", factory=encoding_factory()))
`

// setLatin1Config sets unicode_encoding in our worker's config file, as a
// user would after create-worker.
func setLatin1Config(dir string) error {
	return replaceInFile(filepath.Join(dir, "buildslave.cfg"), `#unicode_encoding = "utf-8"`, `unicode_encoding = "latin-1"`)
}

// setLatin1Tac passes unicode_encoding to the reference's Worker: its
// generated buildbot.tac has no setting for it.
func setLatin1Tac(dir string) error {
	return replaceInFile(filepath.Join(dir, "buildbot.tac"), "umask=umask,", "umask=umask, unicode_encoding='latin-1',")
}

func replaceInFile(path, old, new string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !strings.Contains(string(data), old) {
		return fmt.Errorf("%s has no %q", path, old)
	}
	return os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o600)
}

func TestUnicodeEncodingMatchesReference(t *testing.T) {
	forEachProtocol(t, testUnicodeEncodingMatchesReference)
}

func testUnicodeEncodingMatchesReference(t *testing.T, protocol string) {
	m := mastertest.Start(t, mastertest.Options{
		Workers: []mastertest.WorkerSpec{
			{Name: "gw", Password: "go-pass"},
			{Name: "pw", Password: "py-pass"},
		},
		Builders:        encodingSteps,
		ForceSchedulers: []string{"ours", "reference"},
	})
	ours := mastertest.RunWorker(t, m, mastertest.WorkerConfig{
		Program: binary, Name: "gw", Password: "go-pass", BeforeStart: setLatin1Config, Protocol: protocol,
	})
	ref := mastertest.RunWorker(t, m, mastertest.WorkerConfig{
		Name: "pw", Password: "py-pass", BeforeStart: setLatin1Tac, Protocol: protocol,
	})
	ctx := testContext(t)
	for _, name := range []string{"gw", "pw"} {
		if _, err := m.WaitWorkerConnected(ctx, name); err != nil {
			t.Fatal(err)
		}
	}

	_, got := runShellBuild(t, m, "ours")
	for _, e := range []struct {
		step, stdout string
	}{
		{"output", "été\n"},
		{"argument", " e9\n"}, // one byte: the argument was encoded
		{"stdin", " e0\n"},
	} {
		g := got[e.step]
		if g.result != mastertest.SUCCESS || g.stdio.Stdout() != e.stdout {
			t.Errorf("step %s: %v, stdout %q; want SUCCESS, %q", e.step, g.result, g.stdio.Stdout(), e.stdout)
		}
	}
	if h := got["argument"].stdio.Header(); !strings.Contains(h, `b'sh', b'\xe9']`) {
		t.Errorf("argument header shows the argv not encoded:\n%s", h)
	}
	// The command fails before it starts, as the reference's does.
	if g := got["unencodable"]; g.result != mastertest.EXCEPTION || g.stdio.Stdout() != "" {
		t.Errorf("unencodable step: %v, stdout %q; want EXCEPTION and no output", g.result, g.stdio.Stdout())
	}

	_, want := runShellBuild(t, m, "reference")
	compareWithReference(t, got, want, ours, ref)
}
