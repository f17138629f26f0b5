package hostinfo

import (
	"bufio"
	"io"
	"os"
	"strings"
)

// osReleasePath is the only file the reference worker reads; the
// /usr/lib/os-release fallback of the os-release specification is left out
// so that both workers report the same keys.
const osReleasePath = "/etc/os-release"

// OSRelease returns the fields of /etc/os-release as the reference worker
// reports them to the master (PB.md §5.8): keys lowercased, double quotes
// stripped, lines with nothing after the "=" skipped. The result is empty,
// never nil, when the file cannot be read, as on Windows and macOS.
func OSRelease() map[string]string {
	f, err := os.Open(osReleasePath)
	if err != nil {
		return map[string]string{}
	}
	defer f.Close()
	return parseOSRelease(f)
}

// parseOSRelease reads KEY=value lines exactly as the reference worker
// does, so that the master sees the same strings from either worker: no
// whitespace trimming, a value skipped only when nothing follows the "=",
// double quotes (and only those) stripped from both ends, no shell
// unescaping. A line without "=", which makes the reference fail, is
// skipped.
func parseOSRelease(r io.Reader) map[string]string {
	fields := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.Trim(sc.Text(), "\r\n")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || value == "" {
			continue
		}
		fields[strings.ToLower(key)] = strings.Trim(value, `"`)
	}
	return fields
}
