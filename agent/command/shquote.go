package command

import "strings"

// shellQuote quotes s for a POSIX shell as Python's shlex.quote does, except
// that the empty string becomes "" (as the reference worker's display of a
// command shows it): words made only of safe characters stay bare, others
// are put in single quotes with each ' written as '"'"'.
func shellQuote(s string) string {
	if s == "" {
		return `""`
	}
	if !strings.ContainsFunc(s, unsafeShellRune) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// unsafeShellRune reports whether r is outside shlex's safe set
// [A-Za-z0-9_@%+=:,./-].
func unsafeShellRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune("_@%+=:,./-", r)
}

// shellJoin is the display of an argument list: each word quoted, joined
// with spaces.
func shellJoin(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = shellQuote(w)
	}
	return strings.Join(q, " ")
}
