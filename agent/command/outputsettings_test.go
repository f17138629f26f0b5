package command

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestOutputSettingsFromTheMaster(t *testing.T) {
	sink := newFakeSink()
	out := NewOutputWith(context.Background(), sink, OutputSettings{
		BufferSize:    1 << 20,
		BufferTimeout: time.Hour,
		MaxLineLength: 5, // 4 characters and the newline
		NewlineRE:     `;`,
	})
	out.Stdout("abcdefgh;ij;k")
	if n := sink.batchCount(); n != 0 {
		t.Fatalf("%d batches sent before Flush with a 1 MiB buffer and an hour", n)
	}
	if err := out.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []Update{{"stdout", "abcd\nefgh\nij\nk\n"}}
	if got := sink.updates(); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestOutputSettingsDefaultsAreTheReferences(t *testing.T) {
	sink := newFakeSink()
	s := OutputSettings{BufferSize: 65536, BufferTimeout: 5 * time.Second, MaxLineLength: 4096, NewlineRE: DefaultNewlineRE}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	out := NewOutputWith(context.Background(), sink, s)
	long := strings.Repeat("x", 5000)
	out.Stdout("a\r\nb\rc\x1b[2Jd\n" + long + "\n")
	_ = out.Finish(context.Background())
	got := streamText(sink.updates(), "stdout")
	if want := "a\nb\nc\nd\n" + long[:4095] + "\n" + long[4095:] + "\n"; got != want {
		t.Errorf("got %q…, want the built-in newline handling and 4095-character lines", got[:min(len(got), 40)])
	}
}

func TestOutputSettingsRefusesWhatItCannotDo(t *testing.T) {
	for _, s := range []OutputSettings{
		{NewlineRE: `(\r\n|\r(?=.))`}, // a lookahead other than the default's
		{BufferSize: -1},
		{MaxLineLength: 1},
	} {
		if err := s.Check(); err == nil {
			t.Errorf("%+v: Check = nil", s)
		}
	}
}
