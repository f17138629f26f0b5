package command

import (
	"math"
	"testing"
)

func TestPyRepr(t *testing.T) {
	// Expectations from python3 -c 'print(repr(...))'.
	tests := []struct {
		in   any
		want string
	}{
		{nil, "None"},
		{true, "True"},
		{false, "False"},
		{int64(-3), "-3"},
		{[]byte("a'b"), `b"a'b"`},
		{[]byte(`a"b`), `b'a"b'`},
		{[]byte(`a'"b`), `b'a\'"b'`},
		{[]byte("\x00\x7f\x80\xff\t\n\r\\"), `b'\x00\x7f\x80\xff\t\n\r\\'`},
		{"é\x00\u200b\U0001f600'", `"é\x00\u200b😀'"`},
		{"\u00a0\u00ad", `'\xa0\xad'`},
		{map[string]any{"mylog": "my.log"}, "{'mylog': 'my.log'}"},
		{map[string]any{"lf": map[string]any{"filename": "lf.log", "follow": true}}, "{'lf': {'filename': 'lf.log', 'follow': True}}"},
		{map[string]any{}, "{}"},
		{[]any{[]byte("sh"), nil, int64(1), 1.5, 1e16, 1e-5, 0.0001, 123456789012345678.0, math.Copysign(0, -1), 1.0},
			"[b'sh', None, 1, 1.5, 1e+16, 1e-05, 0.0001, 1.2345678901234568e+17, -0.0, 1.0]"},
		{[][]byte{[]byte("sh"), []byte("-c"), []byte("echo 'hi'")}, `[b'sh', b'-c', b"echo 'hi'"]`},
		{math.Inf(1), "inf"},
		{2.5e-7, "2.5e-07"},
		{1e22, "1e+22"},
		{12345678901234567.0, "1.2345678901234568e+16"},
		{300.0, "300.0"},
	}
	for _, tt := range tests {
		if got := pyRepr(tt.in); got != tt.want {
			t.Errorf("pyRepr(%#v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	// Expectations from shlex.quote, except "" for the empty word.
	tests := []struct{ in, want string }{
		{"", `""`},
		{"a", "a"},
		{"a b", "'a b'"},
		{"it's", `'it'"'"'s'`},
		{"$x", "'$x'"},
		{"é", "'é'"},
		{"a=b,c:d@e%f+g/h.i-j_k", "a=b,c:d@e%f+g/h.i-j_k"},
		{"tab\t", "'tab\t'"},
		{"'", `''"'"''`},
		{`"`, `'"'`},
		{"*", "'*'"},
	}
	for _, tt := range tests {
		if got := shellQuote(tt.in); got != tt.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	// The header of the harness's sigtermTime case.
	got := shellJoin([]string{"sh", "-c", "trap '' TERM; sleep 8"})
	if want := `sh -c 'trap '"'"''"'"' TERM; sleep 8'`; got != want {
		t.Errorf("shellJoin = %s, want %s", got, want)
	}
}
