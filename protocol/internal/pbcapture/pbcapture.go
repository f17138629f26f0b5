// Package pbcapture holds recorded PB connections for the codec tests of
// the packages above it: real traffic between a Buildbot 3.7 master and
// workers (the shared transcripts), one xxd dump per direction. Only tests
// import it, so the dumps it embeds are never linked into a binary.
package pbcapture

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

//go:embed testdata/*.hex
var dumps embed.FS

// Connections are the recorded connections, in the order Load returns them.
var Connections = []string{"pb_main", "pb_badpw", "pb_dup", "pb_headworker", "pb_miniworker"}

// Directions are the two sides of each connection.
var Directions = []string{"worker_to_master", "master_to_worker"}

// Expressions is how many top-level banana expressions the recordings hold
// (the transcripts' README).
const Expressions = 602

// Stream is one direction of one recorded connection.
type Stream struct {
	Name string // connection.direction
	Data []byte
}

// Load returns every direction of every recorded connection.
func Load() ([]Stream, error) {
	var out []Stream
	for _, c := range Connections {
		for _, dir := range Directions {
			name := c + "." + dir
			text, err := dumps.ReadFile("testdata/" + name + ".hex")
			if err != nil {
				return nil, err
			}
			data, err := ReadXXD(name, text)
			if err != nil {
				return nil, err
			}
			out = append(out, Stream{name, data})
		}
	}
	return out, nil
}

// ReadXXD decodes a dump written by xxd: "offset: hex groups  ascii"
// lines. name is for the errors.
func ReadXXD(name string, dump []byte) ([]byte, error) {
	var out []byte
	sc := bufio.NewScanner(bytes.NewReader(dump))
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
