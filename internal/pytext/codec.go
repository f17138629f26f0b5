// Package pytext converts between the worker's text and the bytes of its
// unicode_encoding as Python's codecs do. It is a leaf: config, the agent and
// its commands all use it, and it imports none of them.
package pytext

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
)

// The worker's unicode_encoding (COMMANDS.md §2.1 "Worker-side encoding")
// is the encoding the reference uses between Python's text and the bytes
// the system deals in: command arguments and initial_stdin are encoded
// with it, and the output of commands is decoded with it.
//
// Names are Python codec names, matched as Python matches them: case does
// not matter and '_', '-' and ' ' are the same. Accepted are the IANA
// names and aliases that golang.org/x/text implements (ISO-8859-1,
// ISO-8859-15, windows-1252, Shift_JIS, EUC-JP, ISO-2022-JP, EUC-KR, GBK,
// GB18030, Big5, KOI8-R, IBM437, UTF-16LE, ... and their IANA aliases such
// as latin1, l1, cp437), plus these Python spellings: utf8, u8, utf (UTF-8);
// latin-1, latin, iso8859-N, 8859, cp819 (ISO-8859-N); cp1250 … cp1258
// (windows-125N); ascii, 646 (US-ASCII); sjis, s-jis, shiftjis (Shift_JIS);
// eucjp, ujis, u-jis (EUC-JP); euckr (EUC-KR); utf-16-le, utf-16-be.
// Python codecs that x/text lacks (cp932, for one) are refused.

// pythonAliases maps normalised Python spellings to IANA names.
var pythonAliases = map[string]string{
	"utf8":      "utf-8",
	"u8":        "utf-8",
	"utf":       "utf-8",
	"latin-1":   "iso-8859-1",
	"latin":     "iso-8859-1",
	"8859":      "iso-8859-1",
	"cp819":     "iso-8859-1",
	"ascii":     "us-ascii",
	"646":       "us-ascii",
	"sjis":      "shift_jis",
	"s-jis":     "shift_jis",
	"shiftjis":  "shift_jis",
	"eucjp":     "euc-jp",
	"ujis":      "euc-jp",
	"u-jis":     "euc-jp",
	"euckr":     "euc-kr",
	"utf-16-le": "utf-16le",
	"utf-16-be": "utf-16be",
}

// Codec converts between the worker's text (Go strings, UTF-8) and the
// bytes of the configured encoding. The zero value is UTF-8, the common
// case, which takes no conversion at all.
type Codec struct {
	name string            // as configured, for messages
	enc  encoding.Encoding // nil for UTF-8
}

// Check reports whether name is an encoding the worker can use as
// its unicode_encoding; "" means UTF-8.
func Check(name string) error {
	_, err := Lookup(name)
	return err
}

// Encode encodes s in the named encoding ("" means UTF-8), as the
// reference encodes the login name and password. Its error does not show
// the character that cannot be encoded: s may be a password.
func Encode(encodingName, s string) ([]byte, error) {
	codec, err := Lookup(encodingName)
	if err != nil {
		return nil, err
	}
	b, err := codec.Encode(s)
	if err != nil {
		var ee *EncodeError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("the text has a character at position %d that %q cannot encode", ee.pos, codec.name)
		}
		return nil, err
	}
	return []byte(b), nil
}

// Lookup finds the encoding called name.
func Lookup(name string) (Codec, error) {
	key := normaliseEncodingName(name)
	if key == "" || key == "utf-8" {
		return Codec{name: name}, nil
	}
	for _, candidate := range []string{key, strings.ReplaceAll(key, "-", "_")} {
		enc, err := ianaindex.IANA.Encoding(candidate)
		if err != nil || enc == nil { // nil: known to IANA, not implemented
			continue
		}
		if enc == unicode.UTF8 {
			return Codec{name: name}, nil
		}
		return Codec{name: name, enc: enc}, nil
	}
	return Codec{}, fmt.Errorf("unknown unicode_encoding %q", name)
}

// normaliseEncodingName lowers name, makes '_' and ' ' into '-', and
// replaces Python's own spellings by IANA names.
func normaliseEncodingName(name string) string {
	key := strings.ToLower(strings.TrimSpace(name))
	key = strings.NewReplacer("_", "-", " ", "-").Replace(key)
	if iana, ok := pythonAliases[key]; ok {
		return iana
	}
	if n, ok := strings.CutPrefix(key, "iso8859-"); ok {
		return "iso-8859-" + n
	}
	if n, ok := strings.CutPrefix(key, "cp125"); ok && len(n) == 1 && n[0] >= '0' && n[0] <= '8' {
		return "windows-125" + n
	}
	return key
}

func (c Codec) IsUTF8() bool { return c.enc == nil }

// Encode returns s in the codec's encoding, or an *EncodeError naming the
// first character it cannot represent, as Python's strict encode fails.
// UTF-8 text is returned as it is.
func (c Codec) Encode(s string) (string, error) {
	if c.IsUTF8() {
		return s, nil
	}
	out, err := c.enc.NewEncoder().String(s)
	if err == nil {
		return out, nil
	}
	// Find the culprit, one character at a time: only failures pay for it.
	for i, pos := 0, 0; i < len(s); pos++ {
		r, size := utf8.DecodeRuneInString(s[i:])
		if _, rerr := c.enc.NewEncoder().String(s[i : i+size]); rerr != nil {
			return "", &EncodeError{codec: c.name, char: r, pos: pos}
		}
		i += size
	}
	return "", fmt.Errorf("encoding text as %q: %w", c.name, err)
}

// EncodeValue encodes an argument value: str is encoded, bytes are taken
// as they are, as the reference does.
func (c Codec) EncodeValue(v any) (string, error) {
	switch x := v.(type) {
	case []byte:
		return string(x), nil
	case string:
		return c.Encode(x)
	}
	return "", fmt.Errorf("not text: %s", TypeName(v))
}

// DecodeText is the decoded form of bytes the codec produced, with
// undecodable bytes as U+FFFD, for text shown in headers.
func (c Codec) DecodeText(s string) string {
	d := c.NewDecoder()
	return d.Decode(s) + d.Flush()
}

// EncodeError is Python's UnicodeEncodeError: a character the encoding
// has no bytes for. pos counts characters, as Python does.
type EncodeError struct {
	codec string
	char  rune
	pos   int
}

func (e *EncodeError) Error() string {
	return fmt.Sprintf("%q codec can't encode character %+q in position %d", e.codec, e.char, e.pos)
}

// Name is the encoding's name as configured.
func (c Codec) Name() string { return c.name }
