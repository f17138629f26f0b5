package command

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizeNewlines(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain\n", "plain\n"},
		{"A\r\nB\rC\n", "A\nB\nC\n"}, // the verified example
		{"A\r", "A\r"},               // a final CR waits for what follows
		{"A\r\r\n", "A\n\n"},
		{"x\x1b[uy", "x\ny"},
		{"x\x1b[12;34Hy", "x\ny"},
		{"x\x1b[1;2fy", "x\ny"},
		{"x\x1b[2Jy", "x\ny"},
		{"a\x08\x08\x08b", "a\nb"},
		{"a\x08b\x08c", "a\nb\nc"},
		{"x\x1b[12;Hy", "x\x1b[12;Hy"}, // not a cursor position
		{"x\x1b[;1H", "x\x1b[;1H"},
		{"x\x1b[1;2", "x\x1b[1;2"},
		{"x\x1b[", "x\x1b["},
		{"x\x1b", "x\x1b"},
		{"x\x1b[3J", "x\x1b[3J"},
	}
	for _, tt := range tests {
		if got := normalizeNewlines(tt.in); got != tt.want {
			t.Errorf("normalizeNewlines(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// feed appends each piece and returns what was emitted, plus the flush.
func feed(pieces ...string) (emitted []string, flushed string) {
	var f lineFinder
	for _, p := range pieces {
		emitted = append(emitted, f.append(p))
	}
	return emitted, f.flush()
}

func TestLineFinder(t *testing.T) {
	tests := []struct {
		name    string
		pieces  []string
		emitted []string
		flushed string
	}{
		{"complete lines", []string{"a\nb\n"}, []string{"a\nb\n"}, ""},
		{"partial kept", []string{"a\nb", "c\nd"}, []string{"a\n", "bc\n"}, "d\n"},
		{"CR LF split across reads", []string{"A\r", "\nB\n"}, []string{"", "A\nB\n"}, ""},
		{"CR then text across reads", []string{"A\r", "B\n"}, []string{"", "A\nB\n"}, ""},
		{"final CR", []string{"D\r"}, []string{""}, "D\n"},
		{"escape split across reads", []string{"x\x1b[1", "2;3Hy\n"}, []string{"", "x\ny\n"}, ""},
		{"nothing", []string{""}, []string{""}, ""},
		{"the 3.7 harness", []string{"A\r\nB\rC\nD\r"}, []string{"A\nB\nC\n"}, "D\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emitted, flushed := feed(tt.pieces...)
			if strings.Join(emitted, "|") != strings.Join(tt.emitted, "|") || flushed != tt.flushed {
				t.Errorf("got %q then %q, want %q then %q", emitted, flushed, tt.emitted, tt.flushed)
			}
		})
	}
}

// checkLines verifies that text is made of lines of at most maxLineRunes
// characters plus "\n", and returns their lengths.
func checkLines(t *testing.T, text string) []int {
	t.Helper()
	if text != "" && !strings.HasSuffix(text, "\n") {
		t.Fatalf("text does not end in a newline: %q", text[max(0, len(text)-20):])
	}
	var lengths []int
	for _, l := range strings.SplitAfter(text, "\n") {
		if l == "" {
			continue
		}
		n := utf8.RuneCountInString(l) - 1
		if n > maxLineRunes {
			t.Errorf("a line of %d characters", n)
		}
		lengths = append(lengths, n)
	}
	return lengths
}

func TestLongLinesSplitWithoutLoss(t *testing.T) {
	line := strings.Repeat("0", 5000)
	t.Run("one read", func(t *testing.T) {
		emitted, flushed := feed(line + "A\r\nB\rC\nD\r")
		got := strings.Join(emitted, "") + flushed
		if want := line[:4095] + "\n" + line[4095:] + "A\nB\nC\nD\n"; got != want {
			t.Errorf("lengths %v, want [4095 906 1 1 1]", checkLines(t, got))
		}
	})
	t.Run("several splits in one read", func(t *testing.T) {
		long := strings.Repeat("abcdefghij", 1000) // 10000
		emitted, _ := feed(long + "\nshort\n")
		got := strings.Join(emitted, "")
		if strings.ReplaceAll(got, "\n", "") != long+"short" {
			t.Error("characters lost or added")
		}
		if l := checkLines(t, got); len(l) != 4 || l[0] != 4095 || l[1] != 4095 || l[2] != 1810 || l[3] != 5 {
			t.Errorf("line lengths %v", l)
		}
	})
	t.Run("partial line growing over reads", func(t *testing.T) {
		emitted, flushed := feed(line[:3000], line[3000:], "\n")
		got := strings.Join(emitted, "") + flushed
		if emitted[0] != "" || emitted[1] != line[:4095]+"\n" {
			t.Errorf("emitted %d and %d bytes first", len(emitted[0]), len(emitted[1]))
		}
		if got != line[:4095]+"\n"+line[4095:]+"\n" {
			t.Errorf("lengths %v", checkLines(t, got))
		}
	})
	t.Run("exactly the limit", func(t *testing.T) {
		emitted, _ := feed(line[:4095], "\n")
		if strings.Join(emitted, "") != line[:4095]+"\n" {
			t.Errorf("a line of exactly 4095 characters was split: %v", checkLines(t, strings.Join(emitted, "")))
		}
	})
	t.Run("multi-byte characters", func(t *testing.T) {
		euros := strings.Repeat("€", 5000)
		emitted, _ := feed(euros + "\n")
		got := strings.Join(emitted, "")
		if !utf8.ValidString(got) || strings.ReplaceAll(got, "\n", "") != euros {
			t.Fatal("characters broken or lost")
		}
		if l := checkLines(t, got); len(l) != 2 || l[0] != 4095 || l[1] != 905 {
			t.Errorf("line lengths %v", l)
		}
	})
}
