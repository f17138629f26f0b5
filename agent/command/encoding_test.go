package command

import (
	"context"
	"github.com/buildslave/buildslave/internal/pytext"
	"strings"
	"testing"
)

func TestOutputDecodesWithTheCodec(t *testing.T) {
	codec, err := pytext.Lookup("latin-1")
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
	codec, err := pytext.Lookup("latin-1")
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
