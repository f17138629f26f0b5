package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/buildslave/buildslave/internal/mastertest"
)

// transferSteps is one factory per worker, told apart by tag in the
// master-side destinations: builder "ours" runs on our worker, "reference"
// on the Python one, both in builder directory "bd".
const transferSteps = `
PREPARE = " && ".join([
    "rm -rf src dl",
    "mkdir -p src/tree/sub src/tree/empty",
    "printf 'hello\\n' > src/file.txt",
    "touch -d @1600000000 src/file.txt",
    "printf '#!/bin/sh\\necho hi\\n' > src/tree/run.sh",
    "chmod 755 src/tree/run.sh",
    "printf data > src/tree/sub/data.txt",
    "chmod 640 src/tree/sub/data.txt",
    "ln -s sub/data.txt src/tree/link",
    "printf x > src/g1.log",
    "printf y > src/g2.log",
])

def transfer_factory(tag):
    out = "out/" + tag + "/"
    f = util.BuildFactory()
    f.addStep(steps.ShellCommand(name="prepare", command=["sh", "-c", PREPARE]))
    f.addStep(steps.FileUpload(name="upload", workersrc="src/file.txt",
        masterdest=out + "file.txt", keepstamp=KEEPSTAMP, mode=0o640))
    f.addStep(steps.FileUpload(name="upload_missing", workersrc="src/nope.txt",
        masterdest=out + "nope.txt", flunkOnFailure=False, haltOnFailure=False))
    f.addStep(steps.FileUpload(name="upload_maxsize", workersrc="src/file.txt",
        masterdest=out + "maxsize.txt", maxsize=3, flunkOnFailure=False, haltOnFailure=False))
    f.addStep(steps.FileDownload(name="download", mastersrc="in/payload.bin",
        workerdest="dl/payload.bin", mode=0o755))
    f.addStep(steps.StringDownload("string content\n", name="string",
        workerdest="dl/str.txt", mode=0o600))
    for c in (None, "gz", "bz2"):
        f.addStep(steps.DirectoryUpload(name="dirupload_%s" % c, workersrc="src/tree",
            masterdest=out + "tree_%s" % c, compress=c))
    f.addStep(steps.MultipleFileUpload(name="multi", workersrcs=["src/*.log"],
        masterdest=out + "multi", glob=True))
    f.addStep(steps.ShellCommand(name="check", command=["sh", "-c",
        "stat -c '%a %s %n' dl/payload.bin dl/str.txt && cat dl/str.txt"]))
    # Last: a FAILURE from our worker (rc 1, as 4.3's), an EXCEPTION from
    # the 3.7 reference; either ends the build.
    f.addStep(steps.DirectoryUpload(name="dirupload_missing", workersrc="src/nodir",
        masterdest=out + "nodir"))
    return f

c['builders'].append(util.BuilderConfig(name="ours", workernames=["gw"],
    workerbuilddir="bd", factory=transfer_factory("ours")))
c['builders'].append(util.BuilderConfig(name="reference", workernames=["pw"],
    workerbuilddir="bd", factory=transfer_factory("reference")))

def keepstamp_factory(tag):
    f = util.BuildFactory()
    f.addStep(steps.ShellCommand(name="prepare", command=["sh", "-c", PREPARE]))
    f.addStep(steps.FileUpload(name="upload", workersrc="src/file.txt",
        masterdest="out/" + tag + "/stamped.txt", keepstamp=True))
    return f

c['builders'].append(util.BuilderConfig(name="ours_keepstamp", workernames=["gw"],
    workerbuilddir="bd", factory=keepstamp_factory("ours")))
c['builders'].append(util.BuilderConfig(name="reference_keepstamp", workernames=["pw"],
    workerbuilddir="bd", factory=keepstamp_factory("reference")))
`

// transferStepsOver is transferSteps for a protocol: over msgpack the
// main upload does not keep its timestamp, which the 3.7 master cannot do
// (utimeDefect) and which would end the build there; the keepstamp
// builders try it on its own.
func transferStepsOver(protocol string) string {
	keep := "True"
	if protocol == msgpack {
		keep = "False"
	}
	return "KEEPSTAMP = " + keep + "\n" + transferSteps
}

// pseudoRandom returns n bytes from a generator with a fixed seed, so
// that every run transfers the same data.
func pseudoRandom(n int, seed byte) []byte {
	var s [32]byte
	s[0] = seed
	data := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(data)
	return data
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeMasterFile puts a file into the master's basedir, where steps'
// mastersrc paths are resolved.
func writeMasterFile(t *testing.T, m *mastertest.Master, rel string, data []byte) {
	t.Helper()
	path := filepath.Join(m.Dir(), filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// treeEntry describes one file of a tree for comparison: its type and
// permission bits, and its contents' hash or its link target.
type treeEntry struct {
	Mode fs.FileMode
	What string
}

func describeTree(t *testing.T, root string) map[string]treeEntry {
	t.Helper()
	tree := map[string]treeEntry{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		fi, err := os.Lstat(path)
		if err != nil {
			return err
		}
		e := treeEntry{Mode: fi.Mode() & (fs.ModeType | fs.ModePerm)}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			e.What, err = os.Readlink(path)
		case fi.Mode().IsRegular():
			var data []byte
			data, err = os.ReadFile(path)
			e.What = string(data)
			if len(data) > 64 {
				e.What = sha256Hex(data)
			}
		}
		tree[filepath.ToSlash(rel)] = e
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// buildOutcome is what the master stored of one build.
type buildOutcome struct {
	build mastertest.Build
	steps map[string]mastertest.Result
	logs  map[string]mastertest.StdioLog
}

func runBuild(t *testing.T, m *mastertest.Master, builder string) buildOutcome {
	t.Helper()
	ctx := testContext(t)
	id, err := m.ForceBuild(ctx, builder, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := buildOutcome{steps: map[string]mastertest.Result{}, logs: map[string]mastertest.StdioLog{}}
	if o.build, err = m.WaitBuild(ctx, id); err != nil {
		t.Fatal(err)
	}
	steps, err := m.Steps(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		o.steps[s.Name] = s.Results
		logs, err := m.Logs(ctx, s.StepID)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range logs {
			if l.Slug != "stdio" {
				continue
			}
			if o.logs[s.Name], err = m.StdioLog(ctx, l.LogID); err != nil {
				t.Fatal(err)
			}
		}
	}
	return o
}

func TestTransferStepsMatchReference(t *testing.T) {
	forEachProtocol(t, testTransferStepsMatchReference)
}

func testTransferStepsMatchReference(t *testing.T, protocol string) {
	m, ours, ref := startBothOver(t, protocol, transferStepsOver(protocol), "ours", "reference", "ours_keepstamp", "reference_keepstamp")
	payload := pseudoRandom(300_000, 1) // several blocks of 16 KiB
	writeMasterFile(t, m, "in/payload.bin", payload)

	got := runBuild(t, m, "ours")
	want := map[string]mastertest.Result{
		"worker_preparation": mastertest.SUCCESS,
		"prepare":            mastertest.SUCCESS,
		"upload":             mastertest.SUCCESS,
		"upload_missing":     mastertest.FAILURE,
		"upload_maxsize":     mastertest.FAILURE,
		"download":           mastertest.SUCCESS,
		"string":             mastertest.SUCCESS,
		"dirupload_None":     mastertest.SUCCESS,
		"dirupload_gz":       mastertest.SUCCESS,
		"dirupload_bz2":      mastertest.SUCCESS,
		"multi":              mastertest.SUCCESS,
		"check":              mastertest.SUCCESS,
		// As buildbot-worker 4.3 (transfer.py, WorkerDirectoryUploadCommand):
		// rc 1 and why on stderr; 3.7 raised, which the master shows as an
		// EXCEPTION (checked on the reference below).
		"dirupload_missing": mastertest.FAILURE,
	}
	if !maps.Equal(got.steps, want) {
		t.Errorf("step results %v\nwant %v", got.steps, want)
	}
	if got.build.Results != mastertest.FAILURE {
		t.Errorf("build result %v", got.build.Results)
	}
	nodir := filepath.Join(ours.Dir, "bd", "build", "src", "nodir")
	wantErr := "Cannot read directory '" + nodir + "' for upload: [Errno 2] No such file or directory: '" + nodir + "'\n"
	// No "sending" header: only the master's own line about the rc.
	if l := got.logs["dirupload_missing"]; l.Stderr() != wantErr || l.Header() != "program finished with exit code 1\n" {
		t.Errorf("dirupload_missing stderr %q, header %q; want stderr %q and only the master's header", l.Stderr(), l.Header(), wantErr)
	}

	// What the master stored.
	out := filepath.Join(m.Dir(), "out", "ours")
	tree := describeTree(t, out)
	for _, c := range []string{"None", "gz", "bz2"} {
		d := "tree_" + c + "/"
		for name, e := range map[string]treeEntry{
			d + "run.sh":       {0o755, "#!/bin/sh\necho hi\n"},
			d + "sub/data.txt": {0o640, "data"},
			d + "link":         {fs.ModeSymlink | 0o777, "sub/data.txt"},
			d + "empty":        {fs.ModeDir | tree[d+"empty"].Mode.Perm(), ""},
		} {
			if tree[name] != e {
				t.Errorf("master's %s: %+v, want %+v", name, tree[name], e)
			}
		}
	}
	for name, e := range map[string]treeEntry{
		"file.txt":     {0o640, "hello\n"},
		"maxsize.txt":  {tree["maxsize.txt"].Mode, "hel"},
		"multi/g1.log": {tree["multi/g1.log"].Mode, "x"},
		"multi/g2.log": {tree["multi/g2.log"].Mode, "y"},
	} {
		if tree[name] != e {
			t.Errorf("master's %s: %+v, want %+v", name, tree[name], e)
		}
	}
	if protocol != msgpack {
		if fi, err := os.Stat(filepath.Join(out, "file.txt")); err != nil || fi.ModTime().Unix() != 1600000000 {
			t.Errorf("keepstamp: %v, %v; want mtime 1600000000", fi, err)
		}
	}
	if stderr := got.logs["upload_maxsize"].Stderr(); !strings.Contains(stderr, "Maximum filesize reached, truncating file") {
		t.Errorf("upload_maxsize stderr %q", stderr)
	}

	// What our worker stored.
	dl := filepath.Join(ours.Dir, "bd", "build", "dl")
	wantPayload, wantCheck := payload, "755 300000 dl/payload.bin\n600 15 dl/str.txt\nstring content\n"
	if protocol == msgpack {
		expectMasterDefect(t, downloadDefect)
		wantPayload, wantCheck = nil, "755 0 dl/payload.bin\n600 0 dl/str.txt\n"
	}
	if sum := sha256File(t, filepath.Join(dl, "payload.bin")); sum != sha256Hex(wantPayload) {
		t.Errorf("downloaded payload sha256 %s, want %s", sum, sha256Hex(wantPayload))
	}
	if stdout := got.logs["check"].Stdout(); stdout != wantCheck {
		t.Errorf("check step stdout %q, want %q", stdout, wantCheck)
	}

	// The reference on the same steps: same results, same files on both
	// sides, same logs once the base directories are normalised.
	refGot := runBuild(t, m, "reference")
	if r := refGot.steps["dirupload_missing"]; r != mastertest.EXCEPTION {
		t.Errorf("the 3.7 reference's dirupload_missing: %v, want EXCEPTION", r)
	}
	for _, o := range []buildOutcome{got, refGot} {
		delete(o.steps, "dirupload_missing")
		delete(o.logs, "dirupload_missing")
	}
	if !maps.Equal(got.steps, refGot.steps) {
		t.Errorf("step results %v\nreference %v", got.steps, refGot.steps)
	}
	refTree := describeTree(t, filepath.Join(m.Dir(), "out", "reference"))
	if !maps.Equal(tree, refTree) {
		t.Errorf("master-side files differ:\nours      %v\nreference %v", tree, refTree)
	}
	if a, b := describeTree(t, dl), describeTree(t, filepath.Join(ref.Dir, "bd", "build", "dl")); !maps.Equal(a, b) {
		t.Errorf("worker-side downloads differ:\nours      %v\nreference %v", a, b)
	}
	compareLogs(t, got, ours, refGot, ref, "multi")

	// Last, as their preparation clears the directories checked above.
	if protocol == msgpack {
		expectMasterDefect(t, utimeDefect)
		for _, b := range []string{"ours_keepstamp", "reference_keepstamp"} {
			if r := runBuild(t, m, b).steps["upload"]; r != mastertest.EXCEPTION {
				t.Errorf("%s: keepstamp upload %v, want the master's EXCEPTION", b, r)
			}
		}
	}
}

// compareLogs compares each step's streams with the reference's once the
// base directories are normalised away. In the steps named unordered the
// order of lines is not compared: they list glob matches, which the
// reference leaves in directory order.
func compareLogs(t *testing.T, got buildOutcome, ours *mastertest.WorkerProcess, want buildOutcome, ref *mastertest.WorkerProcess, unordered ...string) {
	t.Helper()
	for step, l := range got.logs {
		r := want.logs[step]
		for _, stream := range []struct{ name, ours, ref string }{
			{"stdout", l.Stdout(), r.Stdout()},
			{"stderr", l.Stderr(), r.Stderr()},
			{"header", l.Header(), r.Header()},
		} {
			o, p := normalize(stream.ours, ours.Dir), normalize(stream.ref, ref.Dir)
			if slices.Contains(unordered, step) {
				o, p = sortedLines(o), sortedLines(p)
			}
			if o != p {
				t.Errorf("step %s: %s differs from the reference\nours:\n%.3000s\nreference:\n%.3000s", step, stream.name, o, p)
			}
		}
	}
}

func sortedLines(s string) string {
	lines := strings.SplitAfter(s, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "")
}

// bigSteps moves 100 MB each way with the steps' default block sizes
// (16 KiB down, 256 KiB up); the shell steps in between read the worker's
// clock, so that the transfer times can be told apart from the build's.
// MAKE, if set, is a shell command that writes the file to upload after
// the download, for a protocol whose downloads arrive empty; the step
// "arrived" shows the size the download left first.
const bigSteps = `
def clock(name):
    return steps.ShellCommand(name=name, command=["date", "+%s.%N"], logEnviron=False)

f = util.BuildFactory()
f.addStep(clock("t0"))
f.addStep(steps.FileDownload(name="download", mastersrc="in/big.bin", workerdest="big.bin"))
if MAKE:
    f.addStep(steps.ShellCommand(name="arrived", command=["stat", "-c", "%s", "big.bin"], logEnviron=False))
    f.addStep(steps.ShellCommand(name="make", command=["sh", "-c", MAKE], logEnviron=False))
f.addStep(clock("t1"))
f.addStep(steps.FileUpload(name="upload", workersrc="big.bin", masterdest="out/big.bin"))
f.addStep(clock("t2"))
c['builders'].append(util.BuilderConfig(name="big", workernames=["gw"],
    workerbuilddir="bd", factory=f))
`

// makeBig writes the 100 MB to upload where no download can bring them.
const makeBig = "head -c 104857600 /dev/urandom > big.bin"

func TestTransfer100MB(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 200 MB")
	}
	forEachProtocol(t, testTransfer100MB)
}

func testTransfer100MB(t *testing.T, protocol string) {
	mk := "None"
	if protocol == msgpack {
		mk = mastertest.PyString(makeBig)
	}
	m := mastertest.Start(t, mastertest.Options{
		Workers:         []mastertest.WorkerSpec{{Name: "gw", Password: "go-pass"}},
		Builders:        "MAKE = " + mk + "\n" + bigSteps,
		ForceSchedulers: []string{"big"},
	})
	ours := startOursOver(t, m, protocol, "gw", "go-pass")
	if _, err := m.WaitWorkerConnected(testContext(t), "gw"); err != nil {
		t.Fatal(err)
	}
	data := pseudoRandom(100<<20, 100)
	want := sha256Hex(data)
	writeMasterFile(t, m, "in/big.bin", data)

	got := runBuild(t, m, "big")
	if got.build.Results != mastertest.SUCCESS {
		t.Fatalf("build result %v; steps %v", got.build.Results, got.steps)
	}
	worker := filepath.Join(ours.Dir, "bd", "build", "big.bin")
	if protocol == msgpack {
		expectMasterDefect(t, downloadDefect)
		if size := got.logs["arrived"].Stdout(); size != "0\n" {
			t.Errorf("the download over msgpack left %q bytes, want the master's empty file", size)
		}
		// The upload carries what the make step wrote instead.
		want = sha256File(t, worker)
	} else if sum := sha256File(t, worker); sum != want {
		t.Errorf("downloaded sha256 %s, want %s", sum, want)
	}
	if sum := sha256File(t, filepath.Join(m.Dir(), "out", "big.bin")); sum != want {
		t.Errorf("uploaded sha256 %s, want %s", sum, want)
	}
	clock := func(step string) float64 {
		v, err := strconv.ParseFloat(strings.TrimSpace(got.logs[step].Stdout()), 64)
		if err != nil {
			t.Fatalf("step %s: %v", step, err)
		}
		return v
	}
	t.Logf("%s: 100 MB download %.2fs, upload %.2fs (worker clock, including the master's step overhead)",
		protocol, clock("t1")-clock("t0"), clock("t2")-clock("t1"))
}
