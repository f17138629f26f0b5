package integration

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/buildslave/buildslave/internal/mastertest"
)

// fsSteps exercises the filesystem commands through the master's own
// steps and through the CompositeStepMixin helpers custom steps use; the
// custom step records what the helpers returned as build properties.
const fsSteps = `
import os
from twisted.internet import defer
from buildbot.process import buildstep
from buildbot.process.results import SUCCESS
from buildbot.steps.worker import CompositeStepMixin

class Composite(buildstep.BuildStep, CompositeStepMixin):
    logEnviron = False

    @defer.inlineCallbacks
    def run(self):
        def prop(name, value):
            self.setProperty(name, value, "Composite")
        yield self.runMkdir("build/cs/a/b")
        yield self.downloadFileContentToWorker("cs/a/note.txt", "note content\n", mode=0o640)
        yield self.downloadFileContentToWorker("cs/a/b/deep.txt", "deep\n")
        prop("cs_content", (yield self.getFileContentFromWorker("cs/a/note.txt")))
        prop("cs_missing_content", (yield self.getFileContentFromWorker("cs/a/missing.txt")))
        files = yield self.runGlob("build/cs/**/*.txt")
        prop("cs_glob", sorted(os.path.relpath(f, self.worker.worker_basedir) for f in files))
        prop("cs_glob_none", (yield self.runGlob("build/cs/*.nomatch")))
        prop("cs_exists", (yield self.pathExists("build/cs/a/note.txt")))
        yield self.runRmFile("build/cs/a/note.txt")
        prop("cs_exists_after_rmfile", (yield self.pathExists("build/cs/a/note.txt")))
        yield self.runRmdir("build/cs")
        prop("cs_dir_exists_after_rmdir", (yield self.pathExists("build/cs")))
        return SUCCESS

PREPARE = " && ".join([
    "rm -rf src copy made rmme",
    "mkdir -p src/sub src/empty rmme/ro",
    "printf hi > src/f.txt",
    "chmod 640 src/f.txt",
    "printf '#!/bin/sh\\n' > src/sub/run.sh",
    "chmod 755 src/sub/run.sh",
    "chmod 750 src/sub",
    "ln -s f.txt src/link",
    "touch -d @1600000000 src/f.txt",
    "printf x > rmme/ro/file",
    "chmod 444 rmme/ro/file",
    "chmod 555 rmme/ro",
])

CHECK = " && ".join([
    "stat -c '%A %n' copy copy/empty copy/sub copy/sub/run.sh copy/f.txt copy/link made/deep",
    "readlink copy/link",
    "stat -c '%Y %n' copy/f.txt",
    "test ! -e rmme && echo rmme-gone",
])

def fs_factory():
    f = util.BuildFactory()
    f.addStep(steps.ShellCommand(name="prepare", command=["sh", "-c", PREPARE], logEnviron=False))
    f.addStep(steps.MakeDirectory(name="mkdir", dir="build/made/deep"))
    f.addStep(steps.CopyDirectory(name="cpdir", src="build/src", dest="build/copy"))
    f.addStep(steps.RemoveDirectory(name="rmdir", dir="build/rmme"))
    f.addStep(steps.FileExists(name="exists", file="build/src/f.txt"))
    f.addStep(steps.FileExists(name="exists_missing", file="build/src/nope",
        flunkOnFailure=False, haltOnFailure=False))
    f.addStep(steps.FileExists(name="exists_dir", file="build/src",
        flunkOnFailure=False, haltOnFailure=False))
    f.addStep(Composite(name="composite"))
    f.addStep(steps.ShellCommand(name="check", command=["sh", "-c", CHECK], logEnviron=False))
    return f

c['builders'].append(util.BuilderConfig(name="ours", workernames=["gw"],
    workerbuilddir="bd", factory=fs_factory()))
c['builders'].append(util.BuilderConfig(name="reference", workernames=["pw"],
    workerbuilddir="bd", factory=fs_factory()))
`

func TestFilesystemStepsMatchReference(t *testing.T) {
	forEachProtocol(t, testFilesystemStepsMatchReference)
}

func testFilesystemStepsMatchReference(t *testing.T, protocol string) {
	m, ours, ref := startBothOver(t, protocol, fsSteps, "ours", "reference")

	got := runBuild(t, m, "ours")
	want := map[string]mastertest.Result{
		"worker_preparation": mastertest.SUCCESS,
		"prepare":            mastertest.SUCCESS,
		"mkdir":              mastertest.SUCCESS,
		"cpdir":              mastertest.SUCCESS,
		"rmdir":              mastertest.SUCCESS,
		"exists":             mastertest.SUCCESS,
		"exists_missing":     mastertest.FAILURE,
		"exists_dir":         mastertest.FAILURE, // not a file
		"composite":          mastertest.SUCCESS,
		"check":              mastertest.SUCCESS,
	}
	if !maps.Equal(got.steps, want) {
		t.Errorf("step results %v\nwant %v", got.steps, want)
	}
	wantStdout := strings.Join([]string{
		"drwxr-xr-x copy", "drwxr-xr-x copy/empty", "drwxr-x--- copy/sub",
		"-rwxr-xr-x copy/sub/run.sh", "-rw-r----- copy/f.txt", "lrwxrwxrwx copy/link",
		"drwxr-xr-x made/deep", "f.txt", "1600000000 copy/f.txt", "rmme-gone", "",
	}, "\n")
	if stdout := got.logs["check"].Stdout(); stdout != wantStdout {
		t.Errorf("check step stdout:\n%s\nwant:\n%s", stdout, wantStdout)
	}

	ctx := testContext(t)
	props, err := m.BuildProperties(ctx, got.build.BuildID)
	if err != nil {
		t.Fatal(err)
	}
	wantProps := map[string]any{
		"cs_content":                "note content\n",
		"cs_missing_content":        nil,
		"cs_glob":                   []any{"bd/build/cs/a/b/deep.txt", "bd/build/cs/a/note.txt"},
		"cs_glob_none":              []any{},
		"cs_exists":                 true,
		"cs_exists_after_rmfile":    false,
		"cs_dir_exists_after_rmdir": false,
	}
	if protocol == msgpack {
		expectMasterDefect(t, downloadDefect)
		wantProps["cs_content"] = "" // written by a download
	}
	for name, w := range wantProps {
		if g, ok := props[name]; !ok || !equalJSON(g, w) {
			t.Errorf("property %s = %#v, want %#v", name, g, w)
		}
	}

	// The reference: the same results, properties and output.
	refGot := runBuild(t, m, "reference")
	if !maps.Equal(got.steps, refGot.steps) {
		t.Errorf("step results %v\nreference %v", got.steps, refGot.steps)
	}
	refProps, err := m.BuildProperties(ctx, refGot.build.BuildID)
	if err != nil {
		t.Fatal(err)
	}
	for name := range wantProps {
		if !equalJSON(props[name], refProps[name]) {
			t.Errorf("property %s = %#v, reference %#v", name, props[name], refProps[name])
		}
	}
	for _, step := range []string{"check", "exists", "exists_missing", "exists_dir", "mkdir"} {
		o, r := normalize(got.logs[step].Stdout()+got.logs[step].Header(), ours.Dir), normalize(refGot.logs[step].Stdout()+refGot.logs[step].Header(), ref.Dir)
		if o != r {
			t.Errorf("step %s log:\n%s\nreference:\n%s", step, o, r)
		}
	}
}

// equalJSON compares decoded JSON values.
func equalJSON(a, b any) bool {
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		return ok && slices.EqualFunc(x, y, equalJSON)
	}
	return a == b
}
