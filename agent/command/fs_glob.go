package command

import (
	"os"
	"regexp"
	"runtime"
	"strings"
	"unicode/utf8"
)

// runGlob sends the paths matching a pattern (COMMANDS.md §4.5), with the
// semantics of Python's glob.glob(pattern, recursive=True), which masters
// rely on for MultipleFileUpload(glob=True) and runGlob:
//   - "*", "?" and "[...]" match within one path element, with fnmatch's
//     rules ("[!...]" negates, no backslash escapes);
//   - a pattern element beginning with something other than "." never
//     matches a name beginning with ".";
//   - an element that is exactly "**" matches any number of directories,
//     including none, and, last in the pattern, every file below;
//   - a pattern without wildcards yields itself if it exists.
//
// Directories are listed in name order where Python keeps the directory's
// order (which glob leaves unspecified). Unlike Python, "**" does not
// descend into a symbolic link that leads back to a directory it is
// already in, so a link loop cannot make it run forever.
func runGlob(args Args, out *Output) error {
	p, err := pathArg(args, "path")
	if err != nil {
		return err
	}
	files := globPattern(p, false)
	if p == "**" && len(files) > 0 && files[0] == "" {
		// glob.glob drops the empty match a bare "**" makes for its own
		// start; "/dir/**" keeps its "/dir/".
		files = files[1:]
	}
	if files == nil {
		files = []string{}
	}
	out.Add("files", files)
	out.RC(0)
	return nil
}

var globMagic = regexp.MustCompile(`[*?[]`)

func hasGlobMagic(s string) bool { return globMagic.MatchString(s) }

func isPathSep(c byte) bool { return c == '/' || (runtime.GOOS == "windows" && c == '\\') }

// splitPath is os.path.split: the head without its trailing separators
// (unless it is only separators) and the last element.
func splitPath(p string) (dir, base string) {
	i := len(p)
	for i > 0 && !isPathSep(p[i-1]) {
		i--
	}
	if runtime.GOOS == "windows" && i == 0 && len(p) >= 2 && p[1] == ':' {
		i = 2
	}
	head, tail := p[:i], p[i:]
	trimmed := strings.TrimRightFunc(head, func(r rune) bool { return r < utf8.RuneSelf && isPathSep(byte(r)) })
	if trimmed != "" && (runtime.GOOS != "windows" || !strings.HasSuffix(trimmed, ":")) {
		head = trimmed
	}
	return head, tail
}

// globPattern yields the matches of pattern; dirsOnly restricts them to
// directories, for the directory part of a longer pattern.
func globPattern(pattern string, dirsOnly bool) []string {
	dir, base := splitPath(pattern)
	if !hasGlobMagic(pattern) {
		if base != "" {
			if lexists(pattern) {
				return []string{pattern}
			}
		} else if isDir(dir) {
			return []string{pattern}
		}
		return nil
	}
	if dir == "" {
		return globInDir("", base, dirsOnly)
	}
	var dirs []string
	if dir != pattern && hasGlobMagic(dir) {
		dirs = globPattern(dir, true)
	} else {
		dirs = []string{dir}
	}
	var matches []string
	for _, d := range dirs {
		for _, name := range globInDir(d, base, dirsOnly) {
			matches = append(matches, JoinPath(d, name))
		}
	}
	return matches
}

// globInDir matches one pattern element against the names in dir.
func globInDir(dir, element string, dirsOnly bool) []string {
	switch {
	case element == "**":
		return append([]string{""}, listRecursive(dir, dirsOnly, nil)...)
	case hasGlobMagic(element):
		re := fnmatchRegexp(element)
		if re == nil {
			return nil
		}
		var matches []string
		for _, name := range listNames(dir, dirsOnly) {
			if (strings.HasPrefix(name, ".") && !strings.HasPrefix(element, ".")) || !re.MatchString(name) {
				continue
			}
			matches = append(matches, name)
		}
		return matches
	case element == "":
		if isDir(dir) {
			return []string{""}
		}
	default:
		if lexists(JoinPath(dir, element)) {
			return []string{element}
		}
	}
	return nil
}

// listRecursive lists every name below dir that is not hidden, parents
// before children, as paths relative to dir. ancestors are the
// directories being listed above, to stop at link loops.
func listRecursive(dir string, dirsOnly bool, ancestors []os.FileInfo) []string {
	here, err := os.Stat(dirOrDot(dir))
	if err != nil {
		return nil
	}
	for _, a := range ancestors {
		if os.SameFile(a, here) {
			return nil
		}
	}
	ancestors = append(ancestors, here)
	var out []string
	for _, name := range listNames(dir, dirsOnly) {
		if strings.HasPrefix(name, ".") {
			continue
		}
		out = append(out, name)
		sub := name
		if dir != "" {
			sub = JoinPath(dir, name)
		}
		if isDir(sub) {
			for _, below := range listRecursive(sub, dirsOnly, ancestors) {
				out = append(out, JoinPath(name, below))
			}
		}
	}
	return out
}

// listNames lists dir ("" is the current directory); an unreadable
// directory has no names, as for glob.
func listNames(dir string, dirsOnly bool) []string {
	entries, err := os.ReadDir(dirOrDot(dir))
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if dirsOnly && !isDir(JoinPath(dirOrDot(dir), e.Name())) {
			continue
		}
		names = append(names, e.Name())
	}
	return names
}

func dirOrDot(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}

func lexists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// isDir follows symbolic links, as os.path.isdir does.
func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// fnmatchRegexp translates an fnmatch pattern for one name into a regular
// expression matching the whole name, or nil if the pattern has a range
// no name can match (such as "[z-a]").
func fnmatchRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	if runtime.GOOS == "windows" {
		b.WriteString(`(?i)`) // os.path.normcase folds case there
	}
	rs := []rune(pattern)
	for i := 0; i < len(rs); {
		c := rs[i]
		i++
		switch c {
		case '*':
			for i < len(rs) && rs[i] == '*' {
				i++
			}
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '[':
			j := i
			if j < len(rs) && rs[j] == '!' {
				j++
			}
			if j < len(rs) && rs[j] == ']' {
				j++
			}
			for j < len(rs) && rs[j] != ']' {
				j++
			}
			if j >= len(rs) {
				b.WriteString(`\[`) // no closing bracket: a literal "["
				continue
			}
			b.WriteString(charClass(rs[i:j]))
			i = j + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`\z`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil
	}
	return re
}

// charClass is the regexp class of the inside of an fnmatch "[...]".
func charClass(inside []rune) string {
	var b strings.Builder
	b.WriteByte('[')
	if len(inside) > 0 && inside[0] == '!' {
		b.WriteByte('^')
		inside = inside[1:]
	}
	for i, r := range inside {
		if r == '-' && i > 0 && i < len(inside)-1 {
			b.WriteByte('-') // a range
			continue
		}
		if r < utf8.RuneSelf && !isAlnum(byte(r)) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte(']')
	return b.String()
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
