package command

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestGlobLikePython checks the matches of Python 3.11's
// glob.glob(root + "/" + pattern, recursive=True) on the same tree,
// recorded from it, with root + "/" cut off.
func TestGlobLikePython(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"a.txt", "b.txt", ".dot.txt", "src/x.c", "src/sub/y.c",
		"src/sub/deep/z.c", "src/.h.c", ".hidden/in.c", "br[k"} {
		writeFile(t, filepath.Join(root, f), nil)
	}
	if err := os.Mkdir(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("src", filepath.Join(root, "loop_src")); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{
		"*.txt":     {"a.txt", "b.txt"},
		"**/*.c":    {"loop_src/sub/deep/z.c", "loop_src/sub/y.c", "loop_src/x.c", "src/sub/deep/z.c", "src/sub/y.c", "src/x.c"},
		"src/**":    {"src/", "src/sub", "src/sub/deep", "src/sub/deep/z.c", "src/sub/y.c", "src/x.c"},
		".*":        {".dot.txt", ".hidden"},
		"[ab].txt":  {"a.txt", "b.txt"},
		"[!a]*.txt": {"b.txt"},
		"*/":        {"empty/", "loop_src/", "src/"},
		"src/*/":    {"src/sub/"},
		"a.txt":     {"a.txt"},
		"nomatch":   {},
		"*.nomatch": {},
		"br[k":      {"br[k"},
		"*[":        {},
		"src/**/":   {"src/", "src/sub/", "src/sub/deep/"},
		// root + "/" itself, shown here as "": the pattern is absolute.
		"**/":     {"", "empty/", "loop_src/", "loop_src/sub/", "loop_src/sub/deep/", "src/", "src/sub/", "src/sub/deep/"},
		"*/*/*.c": {"loop_src/sub/y.c", "src/sub/y.c"},
		"s?c/x.?": {"src/x.c"},
	}
	for pattern, want := range cases {
		sink := runCommand(t, "glob", Args{"path": JoinPath(root, pattern)})
		wantKeys(t, sink, "files", "rc", "elapsed")
		wantRC(t, sink, 0)
		files, _ := valuesOf(sink.updates(), "files")[0].([]string)
		if files == nil {
			t.Errorf("%s: files is %#v, want a list", pattern, files)
		}
		got := make([]string, len(files))
		for i, f := range files {
			got[i] = strings.TrimPrefix(f, root+string(filepath.Separator))
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", pattern, got, want)
		}
	}
}

// A link back up the tree is listed but not descended into again and
// again: glob.glob would recurse until the path is too long.
func TestGlobLinkLoop(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "sub", "f"), nil)
	if err := os.Symlink("..", filepath.Join(root, "sub", "up")); err != nil {
		t.Fatal(err)
	}
	sink := runCommand(t, "glob", Args{"path": filepath.Join(root, "**")})
	files := valuesOf(sink.updates(), "files")[0].([]string)
	want := []string{root + "/", root + "/sub", root + "/sub/f", root + "/sub/up"}
	slices.Sort(files)
	if !slices.Equal(files, want) {
		t.Errorf("files %q, want %q", files, want)
	}
}

func TestFnmatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		match         bool
	}{
		{"*.c", "x.c", true},
		{"*.c", "x.h", false},
		{"[a-c]x", "bx", true},
		{"[a-c]x", "dx", false},
		{"[!a-c]x", "dx", true},
		{"[]]", "]", true},
		{"[!]]", "a", true},
		{`a\b`, `a\b`, true},
		{"a.b", "axb", false},
		{"[^x]", "^", true},
		{"(*)", "(x)", true},
		{"?", "é", true},
	} {
		re := fnmatchRegexp(tc.pattern)
		if got := re != nil && re.MatchString(tc.name); got != tc.match {
			t.Errorf("fnmatch(%q, %q) = %v, want %v", tc.name, tc.pattern, got, tc.match)
		}
	}
}
