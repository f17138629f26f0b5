package command

import (
	"context"
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
		codec, err := lookupCodec(tc.name)
		if err != nil {
			t.Errorf("%q: %v", tc.name, err)
			continue
		}
		got, err := codec.encode(tc.sample)
		if err != nil || got != tc.encoded {
			t.Errorf("%q: %q encodes to %q, %v; want %q", tc.name, tc.sample, got, err, tc.encoded)
		}
		if err := CheckEncoding(tc.name); err != nil {
			t.Errorf("CheckEncoding(%q): %v", tc.name, err)
		}
	}
}

func TestLookupCodecRefusesUnknownNames(t *testing.T) {
	// windows-31j is known to IANA but not implemented by x/text.
	for _, name := range []string{"klingon", "utf-9", "windows-31j", "latin 1 please"} {
		err := CheckEncoding(name)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%q: error %v, want one naming it", name, err)
		}
	}
}

func TestEncodeFailureNamesTheCharacter(t *testing.T) {
	codec, err := lookupCodec("latin-1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = codec.encode("ab€c")
	var ee *encodeError
	if !errors.As(err, &ee) || ee.char != '€' || ee.pos != 2 {
		t.Fatalf("error %#v", err)
	}
	if want := `"latin-1" codec can't encode character '\u20ac' in position 2`; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}

func TestEncodeTextHidesTheCharacter(t *testing.T) {
	b, err := EncodeText("latin-1", "pässword")
	if err != nil || string(b) != "p\xe4ssword" {
		t.Errorf("got %q, %v", b, err)
	}
	if b, err := EncodeText("", "pässword"); err != nil || string(b) != "pässword" {
		t.Errorf("utf-8: got %q, %v", b, err)
	}
	_, err = EncodeText("latin-1", "secret€")
	if err == nil || strings.Contains(err.Error(), "€") || strings.Contains(err.Error(), "20ac") {
		t.Errorf("error %v: want one that does not show the character", err)
	}
	if _, err := EncodeText("klingon", "x"); err == nil {
		t.Error("unknown encoding accepted")
	}
}

func TestLatin1RoundTrip(t *testing.T) {
	codec, err := lookupCodec("latin-1")
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for r := rune(1); r < 256; r++ {
		all.WriteRune(r)
	}
	enc, err := codec.encode(all.String())
	if err != nil || len(enc) != 255 {
		t.Fatalf("encoded %d bytes, %v", len(enc), err)
	}
	if got := codec.decodeText(enc); got != all.String() {
		t.Errorf("round trip gave %q", got)
	}
}

// decodePieces feeds pieces to a fresh decoder of the named encoding.
func decodePieces(t *testing.T, name string, pieces ...string) string {
	t.Helper()
	codec, err := lookupCodec(name)
	if err != nil {
		t.Fatal(err)
	}
	d := codec.newDecoder()
	var b strings.Builder
	for _, p := range pieces {
		b.WriteString(d.decode(p))
	}
	b.WriteString(d.flush())
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

func TestOutputDecodesWithTheCodec(t *testing.T) {
	codec, err := lookupCodec("latin-1")
	if err != nil {
		t.Fatal(err)
	}
	sink := newFakeSink()
	out := NewOutput(context.Background(), sink)
	out.decodeOutputWith(codec)
	out.Header("é header\n") // the worker's own text stays UTF-8
	out.Stdout("\xe9t")
	out.Stdout("\xe9\n")
	out.Stderr("\xff\n")
	out.Log("mylog", "\xe0\n")
	if err := out.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	u := sink.updates()
	for key, want := range map[string]string{"header": "é header\n", "stdout": "été\n", "stderr": "ÿ\n"} {
		if got := streamText(u, key); got != want {
			t.Errorf("%s %q, want %q", key, got, want)
		}
	}
	var log string
	for _, x := range u {
		if lt, ok := x.Value.(LogText); ok {
			log += lt.Text
		}
	}
	if log != "à\n" {
		t.Errorf("log %q", log)
	}
}

func TestParseShellArgsEncodes(t *testing.T) {
	codec, err := lookupCodec("latin-1")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := parseShellArgs(Args{
		"workdir": "w", "command": []any{"echo", "é", []any{"obfuscated", "sécret", "XX"}, []byte("\xff")},
		"initial_stdin": "à",
	}, codec)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"echo", "\xe9", "s\xe9cret", "\xff"}; !execTakesText && strings.Join(cfg.command.real, "|") != strings.Join(want, "|") {
		t.Errorf("real %q, want %q", cfg.command.real, want)
	}
	if got := cfg.command.argvRepr(); got != `[b'echo', b'\xe9', b'XX', b'\xff']` {
		t.Errorf("argv %s", got)
	}
	// Quoted as Python's shlex.quote quotes anything not ASCII.
	if got := cfg.command.display(); got != "echo 'é' XX 'ÿ'" {
		t.Errorf("display %q", got)
	}
	if string(cfg.stdin) != "\xe0" {
		t.Errorf("stdin %q", cfg.stdin)
	}

	for _, tc := range []struct {
		args           Args
		want, mustHide string
	}{
		{Args{"workdir": "w", "command": []any{"echo", "€"}}, `command element 1: "latin-1" codec can't encode character '\u20ac' in position 0`, ""},
		{Args{"workdir": "w", "command": "echo €"}, `command: "latin-1" codec can't encode character '\u20ac' in position 5`, ""},
		{Args{"workdir": "w", "command": "true", "initial_stdin": "x€"}, `initial_stdin: "latin-1" codec can't encode character '\u20ac' in position 1`, ""},
		{Args{"workdir": "w", "command": []any{"echo", []any{"obfuscated", "pass€", "XX"}}}, `command element 1: a secret has a character that "latin-1" cannot encode`, "€"},
	} {
		_, err := parseShellArgs(tc.args, codec)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%v: error %v, want %s", tc.args["command"], err, tc.want)
		}
		if tc.mustHide != "" && err != nil && strings.Contains(err.Error(), tc.mustHide) {
			t.Errorf("error %q shows %q", err, tc.mustHide)
		}
	}
}
