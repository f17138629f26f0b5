package pytext

import (
	"errors"
	"strings"
	"testing"
)

func TestLookupCodecNames(t *testing.T) {
	for _, tc := range []struct {
		name, sample, encoded string // sample encodes to encoded
	}{
		{"", "é", "\xc3\xa9"},
		{"utf-8", "é", "\xc3\xa9"},
		{"UTF8", "é", "\xc3\xa9"},
		{"u8", "é", "\xc3\xa9"},
		{"latin-1", "é", "\xe9"},
		{"Latin_1", "é", "\xe9"},
		{"latin1", "é", "\xe9"},
		{"l1", "é", "\xe9"},
		{"ISO-8859-1", "é", "\xe9"},
		{"iso8859_1", "é", "\xe9"},
		{"iso8859-15", "€", "\xa4"},
		{"cp1252", "€", "\x80"},
		{"windows-1252", "€", "\x80"},
		{"shift_jis", "日", "\x93\xfa"},
		{"Shift-JIS", "日", "\x93\xfa"},
		{"sjis", "日", "\x93\xfa"},
		{"euc-jp", "日", "\xc6\xfc"},
		{"EUC_JP", "日", "\xc6\xfc"},
		{"ascii", "a", "a"},
		{"cp437", "é", "\x82"},
		{"koi8-r", "ж", "\xd6"},
	} {
		codec, err := Lookup(tc.name)
		if err != nil {
			t.Errorf("%q: %v", tc.name, err)
			continue
		}
		got, err := codec.Encode(tc.sample)
		if err != nil || got != tc.encoded {
			t.Errorf("%q: %q encodes to %q, %v; want %q", tc.name, tc.sample, got, err, tc.encoded)
		}
		if err := Check(tc.name); err != nil {
			t.Errorf("Check(%q): %v", tc.name, err)
		}
	}
}

func TestLookupCodecRefusesUnknownNames(t *testing.T) {
	// windows-31j is known to IANA but not implemented by x/text.
	for _, name := range []string{"klingon", "utf-9", "windows-31j", "latin 1 please"} {
		err := Check(name)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%q: error %v, want one naming it", name, err)
		}
	}
}

func TestEncodeFailureNamesTheCharacter(t *testing.T) {
	codec, err := Lookup("latin-1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = codec.Encode("ab€c")
	var ee *EncodeError
	if !errors.As(err, &ee) || ee.char != '€' || ee.pos != 2 {
		t.Fatalf("error %#v", err)
	}
	if want := `"latin-1" codec can't encode character '\u20ac' in position 2`; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}

func TestEncodeTextHidesTheCharacter(t *testing.T) {
	b, err := Encode("latin-1", "pässword")
	if err != nil || string(b) != "p\xe4ssword" {
		t.Errorf("got %q, %v", b, err)
	}
	if b, err := Encode("", "pässword"); err != nil || string(b) != "pässword" {
		t.Errorf("utf-8: got %q, %v", b, err)
	}
	_, err = Encode("latin-1", "secret€")
	if err == nil || strings.Contains(err.Error(), "€") || strings.Contains(err.Error(), "20ac") {
		t.Errorf("error %v: want one that does not show the character", err)
	}
	if _, err := Encode("klingon", "x"); err == nil {
		t.Error("unknown encoding accepted")
	}
}

func TestLatin1RoundTrip(t *testing.T) {
	codec, err := Lookup("latin-1")
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for r := rune(1); r < 256; r++ {
		all.WriteRune(r)
	}
	enc, err := codec.Encode(all.String())
	if err != nil || len(enc) != 255 {
		t.Fatalf("encoded %d bytes, %v", len(enc), err)
	}
	if got := codec.DecodeText(enc); got != all.String() {
		t.Errorf("round trip gave %q", got)
	}
}

// decodePieces feeds pieces to a fresh decoder of the named encoding.
func decodePieces(t *testing.T, name string, pieces ...string) string {
	t.Helper()
	codec, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	d := codec.NewDecoder()
	var b strings.Builder
	for _, p := range pieces {
		b.WriteString(d.Decode(p))
	}
	b.WriteString(d.Flush())
	return b.String()
}

func TestDecoderJoinsSplitCharacters(t *testing.T) {
	// 日本 in Shift_JIS, cut inside each character.
	if got := decodePieces(t, "shift_jis", "a\x93", "\xfa\x96", "\x7bz"); got != "a日本z" {
		t.Errorf("shift_jis: %q", got)
	}
	// One byte at a time.
	if got := decodePieces(t, "euc-jp", "\xc6", "\xfc", "\xcb", "\xdc"); got != "日本" {
		t.Errorf("euc-jp: %q", got)
	}
}

func TestDecoderReplacesBadBytes(t *testing.T) {
	// A lone lead byte at the end of the stream, and an invalid pair.
	if got := decodePieces(t, "shift_jis", "ok\x93"); got != "ok\ufffd" {
		t.Errorf("truncated: %q", got)
	}
	got := decodePieces(t, "shift_jis", "a\x81\x20b")
	if !strings.HasPrefix(got, "a\ufffd") || !strings.HasSuffix(got, "b") || strings.ContainsRune(got, '\x81') {
		t.Errorf("invalid: %q", got)
	}
	if got := decodePieces(t, "ascii", "a\xffb"); got != "a\ufffdb" {
		t.Errorf("ascii: %q", got)
	}
}
