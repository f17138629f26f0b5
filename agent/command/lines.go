package command

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// maxLineRunes is the longest line content sent; with its newline a line
// is at most 4096 characters. The reference splits at the same length but
// drops a character at each split; we do not.
const maxLineRunes = 4095

// lineFinder cuts one output stream into complete lines (COMMANDS.md §1.4
// step 1): terminal line-ending and cursor-movement sequences become
// newlines, only text up to the last newline is released, and the rest is
// kept until more text or the end of the stream completes it.
type lineFinder struct {
	partial string
	// max is the longest line content; 0 means maxLineRunes.
	max int
	// newline, when set, replaces normalizeNewlines: a master's own
	// newline_re (set_worker_settings) other than the reference's.
	newline *regexp.Regexp
}

func (f *lineFinder) maxRunes() int {
	if f.max > 0 {
		return f.max
	}
	return maxLineRunes
}

// append adds text and returns the lines it completes, each ending in
// "\n", or "".
func (f *lineFinder) append(text string) string {
	if f.partial != "" {
		// Rejoin so that a sequence cut between two reads (a CR before the
		// LF, a half escape sequence) is still recognised.
		text = f.partial + text
		f.partial = ""
	}
	if f.newline != nil {
		text = f.newline.ReplaceAllString(text, "\n")
	} else {
		text = normalizeNewlines(text)
	}
	max := f.maxRunes()
	i := strings.LastIndexByte(text, '\n')
	complete, rest := text[:i+1], text[i+1:]
	complete = splitLongLines(complete, max)
	if len(rest) > max {
		var head string
		head, rest = splitLongPartial(rest, max)
		complete += head
	}
	f.partial = rest
	return complete
}

// flush ends the stream, returning the kept partial line terminated with
// an added "\n", or "" if there is none.
func (f *lineFinder) flush() string {
	if f.partial == "" {
		return ""
	}
	return f.append("\n")
}

// normalizeNewlines replaces what the reference's regular expression
// (\r\n|\r(?=.)|\033\[u|\033\[[0-9]+;[0-9]+[Hf]|\033\[2J|\x08+) matches by
// "\n": CRLF, a CR followed by another character, cursor save, cursor
// position, clear screen and runs of backspaces. A CR at the very end stays
// a CR, as the next piece decides what it is.
func normalizeNewlines(s string) string {
	const special = "\r\x1b\x08"
	i := strings.IndexAny(s, special)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		b.WriteString(s[:i])
		s = s[i:]
		n := 1 // bytes consumed
		switch s[0] {
		case '\r':
			switch {
			case len(s) == 1:
				b.WriteByte('\r')
			case s[1] == '\n':
				b.WriteByte('\n')
				n = 2
			default:
				b.WriteByte('\n')
			}
		case '\x08':
			for n < len(s) && s[n] == '\x08' {
				n++
			}
			b.WriteByte('\n')
		case '\x1b':
			if m := escapeLen(s); m > 0 {
				b.WriteByte('\n')
				n = m
			} else {
				b.WriteByte('\x1b')
			}
		}
		s = s[n:]
		i = strings.IndexAny(s, special)
	}
	b.WriteString(s)
	return b.String()
}

// escapeLen returns the length of the cursor-save (ESC[u), cursor-position
// (ESC[<n>;<m>H or f) or clear-screen (ESC[2J) sequence s starts with, or 0.
func escapeLen(s string) int {
	if !strings.HasPrefix(s, "\x1b[") {
		return 0
	}
	switch {
	case strings.HasPrefix(s, "\x1b[u"):
		return 3
	case strings.HasPrefix(s, "\x1b[2J"):
		return 4
	}
	i := 2
	i += countDigits(s[i:])
	if i == 2 || i >= len(s) || s[i] != ';' {
		return 0
	}
	i++
	d := countDigits(s[i:])
	if d == 0 || i+d >= len(s) {
		return 0
	}
	i += d
	if s[i] != 'H' && s[i] != 'f' {
		return 0
	}
	return i + 1
}

func countDigits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// splitLongLines breaks each line of text (which ends in "\n") that is
// longer than max characters into lines of that length.
func splitLongLines(text string, max int) string {
	start := firstLongLine(text, max)
	if start < 0 {
		return text
	}
	var b strings.Builder
	b.Grow(len(text) + len(text)/max)
	b.WriteString(text[:start])
	text = text[start:]
	for text != "" {
		i := strings.IndexByte(text, '\n')
		lines, rest := splitLongPartial(text[:i], max)
		b.WriteString(lines)
		b.WriteString(rest)
		b.WriteByte('\n')
		text = text[i+1:]
	}
	return b.String()
}

// firstLongLine returns the offset of the first line of text longer than
// max characters, or -1.
func firstLongLine(text string, max int) int {
	for start := 0; len(text)-start > max+1; {
		n := strings.IndexByte(text[start:], '\n')
		if n > max && utf8.RuneCountInString(text[start:start+n]) > max {
			return start
		}
		start += n + 1
	}
	return -1
}

// splitLongPartial cuts full-length lines off an unterminated line that
// has grown too long, returning them (each with an added "\n") and the
// remainder, which is at most max characters.
func splitLongPartial(s string, max int) (lines, rest string) {
	var b strings.Builder
	for len(s) > max && utf8.RuneCountInString(s) > max {
		cut := runeOffset(s, max)
		b.WriteString(s[:cut])
		b.WriteByte('\n')
		s = s[cut:]
	}
	return b.String(), s
}

// runeOffset returns the byte offset of the n-th character of s.
func runeOffset(s string, n int) int {
	off := 0
	for range n {
		_, size := utf8.DecodeRuneInString(s[off:])
		off += size
	}
	return off
}
