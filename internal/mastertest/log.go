package mastertest

import "strings"

// Stream prefixes of the lines of a stored stdio log.
const (
	StreamStdout = 'o'
	StreamStderr = 'e'
	StreamHeader = 'h'
)

// LogLine is one line of a stdio log.
type LogLine struct {
	Stream byte   // StreamStdout, StreamStderr or StreamHeader
	Text   string // without prefix and newline
}

// StdioLog is a stdio log split into lines with their streams, in the order
// the master stored them. The master splits each stream into lines on its
// own, so lines of different streams interleave only at line boundaries.
type StdioLog struct {
	Lines []LogLine
}

// ParseStdio splits the stored contents of a stdio log (see LogContents).
// A line without a known stream prefix is kept with Stream 0.
func ParseStdio(contents string) StdioLog {
	var l StdioLog
	for line := range strings.Lines(contents) {
		line = strings.TrimSuffix(line, "\n")
		ll := LogLine{Text: line}
		if line != "" {
			switch line[0] {
			case StreamStdout, StreamStderr, StreamHeader:
				ll.Stream, ll.Text = line[0], line[1:]
			}
		}
		l.Lines = append(l.Lines, ll)
	}
	return l
}

// Stdout returns the stdout lines, each newline-terminated.
func (l StdioLog) Stdout() string { return l.stream(StreamStdout) }

// Stderr returns the stderr lines, each newline-terminated.
func (l StdioLog) Stderr() string { return l.stream(StreamStderr) }

// Header returns the header lines (the command line, directory,
// environment, exit code, elapsed time, …), each newline-terminated.
func (l StdioLog) Header() string { return l.stream(StreamHeader) }

func (l StdioLog) stream(s byte) string {
	var b strings.Builder
	for _, line := range l.Lines {
		if line.Stream == s {
			b.WriteString(line.Text)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
