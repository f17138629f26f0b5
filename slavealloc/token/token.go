// Package token handles the allocator's bearer tokens. The server keeps
// only their SHA-256 hashes: its token file may hold the hashes
// themselves ("sha256:HEX"), so that no usable token need be on the
// server's disk at all, or plain tokens, which are hashed as they are read.
// Tokens are random 256-bit values, for which a fast hash is as good as a
// slow one: there is nothing to guess.
package token

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Scope is what a token allows.
type Scope struct {
	// Admin allows every read and change.
	Admin bool
	// Worker, for a worker's own token, is the only worker whose tac it
	// may fetch.
	Worker string
}

func (s Scope) String() string {
	if s.Admin {
		return "admin"
	}
	return "worker:" + s.Worker
}

type entry struct {
	hash  [sha256.Size]byte
	scope Scope
}

// Set is the tokens a server accepts.
type Set struct {
	entries []entry
}

// HashPrefix marks a hashed token in a token file.
const HashPrefix = "sha256:"

// Load reads a server's token file. Each line that is neither empty nor
// a # comment is
//
//	TOKEN-OR-HASH [SCOPE]
//
// where TOKEN-OR-HASH is a token or sha256:HEX of one, and SCOPE is admin
// (the default) or worker:NAME, a token that may only fetch NAME's tac.
// A file holding plain tokens must not be readable by others.
func Load(path string) (*Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the token file: %w", err)
	}
	var set Set
	plain := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) > 2 {
			return nil, fmt.Errorf("%s line %d: expected TOKEN-OR-HASH [SCOPE]", path, n)
		}
		var e entry
		if h, ok := strings.CutPrefix(f[0], HashPrefix); ok {
			b, err := hex.DecodeString(h)
			if err != nil || len(b) != sha256.Size {
				return nil, fmt.Errorf("%s line %d: %s must be followed by 64 hex digits", path, n, HashPrefix)
			}
			copy(e.hash[:], b)
		} else {
			if len(f[0]) < 16 {
				return nil, fmt.Errorf("%s line %d: a token must have at least 16 characters (make one with 'slavealloc token new FILE')", path, n)
			}
			e.hash = sha256.Sum256([]byte(f[0]))
			plain = true
		}
		e.scope = Scope{Admin: true}
		if len(f) == 2 {
			switch name, ok := strings.CutPrefix(f[1], "worker:"); {
			case f[1] == "admin":
			case ok && name != "":
				e.scope = Scope{Worker: name}
			default:
				return nil, fmt.Errorf("%s line %d: scope %q is not admin or worker:NAME", path, n, f[1])
			}
		}
		set.entries = append(set.entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(set.entries) == 0 {
		return nil, fmt.Errorf("%s holds no token: every change would be refused", path)
	}
	if plain {
		if err := privateFile(path); err != nil {
			return nil, err
		}
	}
	return &set, nil
}

// Check returns the scope of tok, comparing hashes in constant time.
func (s *Set) Check(tok string) (Scope, bool) {
	if tok == "" {
		return Scope{}, false
	}
	h := sha256.Sum256([]byte(tok))
	var found Scope
	ok := false
	for _, e := range s.entries {
		if subtle.ConstantTimeCompare(h[:], e.hash[:]) == 1 {
			found, ok = e.scope, true
		}
	}
	return found, ok
}

// New returns a fresh random token.
func New() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Hash returns the line a server's token file holds for tok.
func Hash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return HashPrefix + hex.EncodeToString(h[:])
}

// ReadClient reads the token a client sends: the first word of the first
// line that is neither empty nor a comment of a file readable only by its
// owner.
func ReadClient(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the token file: %w", err)
	}
	if err := privateFile(path); err != nil {
		return "", err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		tok := strings.Fields(line)[0]
		if strings.HasPrefix(tok, HashPrefix) {
			return "", fmt.Errorf("%s holds a token's hash, which only a server can use: give the client the token itself", path)
		}
		return tok, nil
	}
	return "", fmt.Errorf("%s holds no token", path)
}

// privateFile refuses a token file others can read.
func privateFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 && filepath.Separator == '/' {
		return fmt.Errorf("%s holds tokens and is readable by others (mode %04o): chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	return nil
}

// WriteNew creates path (mode 0600, not replacing a file) holding a new
// token, and returns the token.
func WriteNew(path string) (string, error) {
	tok := New()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("%s already exists; not replacing it", path)
	}
	if err != nil {
		return "", err
	}
	if _, err := fmt.Fprintln(f, tok); err != nil {
		f.Close()
		os.Remove(path)
		return "", err
	}
	return tok, f.Close()
}
