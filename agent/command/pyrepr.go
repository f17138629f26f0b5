package command

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// pyRepr formats v as Python's repr() would show the value it came from:
// string as str, []byte as bytes, []any as a list, map[string]any as a
// dict. Headers quote argument values this way, and users compare them with
// what the Python worker printed.
//
// Python dicts keep the master's key order, which Args, being a Go map,
// has lost; keys are sorted instead.
func pyRepr(v any) string {
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

func writeRepr(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(pyFloat(x))
	case string:
		writeStrRepr(b, x)
	case []byte:
		writeBytesRepr(b, x)
	case []string:
		writeList(b, len(x), func(i int) { writeStrRepr(b, x[i]) })
	case [][]byte:
		writeList(b, len(x), func(i int) { writeBytesRepr(b, x[i]) })
	case []any:
		writeList(b, len(x), func(i int) { writeRepr(b, x[i]) })
	case map[string]any:
		b.WriteByte('{')
		for i, k := range slices.Sorted(maps.Keys(x)) {
			if i > 0 {
				b.WriteString(", ")
			}
			writeStrRepr(b, k)
			b.WriteString(": ")
			writeRepr(b, x[k])
		}
		b.WriteByte('}')
	default:
		fmt.Fprintf(b, "%v", x)
	}
}

func writeList(b *strings.Builder, n int, elem func(int)) {
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		elem(i)
	}
	b.WriteByte(']')
}

// pyQuote picks the quote Python's repr uses: single quotes unless the
// text contains a single quote and no double quote.
func pyQuote(s string) byte {
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		return '"'
	}
	return '\''
}

func writeBytesRepr(b *strings.Builder, s []byte) {
	q := pyQuote(string(s))
	b.WriteByte('b')
	b.WriteByte(q)
	for _, c := range s {
		switch {
		case c == q || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(q)
}

// writeStrRepr writes a str repr. s should be valid UTF-8; an invalid byte
// is shown as Python shows a surrogate-escaped one.
func writeStrRepr(b *strings.Builder, s string) {
	q := pyQuote(s)
	b.WriteByte(q)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			fmt.Fprintf(b, `\udc%02x`, s[i])
			i++
			continue
		}
		i += size
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(b, `\x%02x`, r)
		case r < utf8.RuneSelf || unicode.IsPrint(r):
			// Go's IsPrint and Python's isprintable agree: letters, marks,
			// numbers, punctuation, symbols and the ASCII space.
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			fmt.Fprintf(b, `\U%08x`, r)
		}
	}
	b.WriteByte(q)
}

// pyFloat formats f as Python's repr: the shortest text that reads back as
// f, positional from 1e-4 up to 1e16 (always with a fraction, "1.0"),
// scientific outside.
func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-4 || abs >= 1e16) {
		// Go's shortest 'e' form matches Python's: "1e+16", "2.5e-07".
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}
