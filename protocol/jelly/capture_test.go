package jelly

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// captures lists the recorded PB connections kept with package banana's
// test data: real traffic between a Buildbot 3.7 master and workers, one
// xxd dump per direction.
var captures = []string{"pb_main", "pb_badpw", "pb_dup", "pb_headworker", "pb_miniworker"}

var directions = []string{"worker_to_master", "master_to_worker"}

// readXXD reads a dump written by xxd: "offset: hex groups  ascii" lines.
// (Package banana's tests have the same reader; test code cannot be shared
// between packages without exporting it.)
func readXXD(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []byte
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		offText, rest, ok := strings.Cut(text, ": ")
		if !ok {
			return nil, fmt.Errorf("%s:%d: no offset", name, line)
		}
		off, err := strconv.ParseUint(offText, 16, 64)
		if err != nil || off != uint64(len(out)) {
			return nil, fmt.Errorf("%s:%d: offset %q, want %x", name, line, offText, len(out))
		}
		// The hex groups end at the first double space; the ASCII column
		// follows.
		hexPart, _, _ := strings.Cut(rest, "  ")
		b, err := hex.DecodeString(strings.ReplaceAll(hexPart, " ", ""))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		out = append(out, b...)
	}
	return out, sc.Err()
}

// stream is one direction of one captured connection.
type stream struct {
	name string
	data []byte
}

func loadCaptures(t testing.TB) []stream {
	t.Helper()
	var out []stream
	for _, c := range captures {
		for _, dir := range directions {
			name := c + "." + dir
			data, err := readXXD(filepath.Join("..", "banana", "testdata", name+".hex"))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, stream{name, data})
		}
	}
	return out
}
