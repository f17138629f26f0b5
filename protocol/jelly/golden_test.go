package jelly

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/buildslave/buildslave/protocol/banana"
)

// capturedMessage is one top-level PB expression of a capture, with the
// bytes it occupied.
type capturedMessage struct {
	expr  []any
	bytes []byte
}

// capturedMessages decodes every PB message (after the dialect selection)
// of every capture.
func capturedMessages(t testing.TB) map[string][]capturedMessage {
	t.Helper()
	out := make(map[string][]capturedMessage)
	for _, s := range loadCaptures(t) {
		d := banana.NewDecoder(bytes.NewReader(s.Data))
		off := 0
		for i := 0; ; i++ {
			v, err := d.Decode()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s expression %d: %v", s.Name, i, err)
			}
			d.SetVocabulary(true)
			enc, err := banana.Encode(v, i > 0)
			if err != nil || !bytes.HasPrefix(s.Data[off:], enc) {
				t.Fatalf("%s expression %d does not re-encode as captured (%v)", s.Name, i, err)
			}
			if l, ok := v.([]any); ok && i > 0 {
				out[s.Name] = append(out[s.Name], capturedMessage{l, s.Data[off : off+len(enc)]})
			}
			off += len(enc)
		}
	}
	return out
}

// jellied returns the positions of the jellied parts of a PB message:
// args and kwargs of a call, the result of an answer, the failure of an
// error. The rest of the envelope is plain banana.
func jellied(msg []any) []int {
	if len(msg) == 0 {
		return nil
	}
	name, _ := msg[0].([]byte)
	switch {
	case string(name) == "message" && len(msg) == 7:
		return []int{5, 6}
	case (string(name) == "answer" || string(name) == "error") && len(msg) == 3:
		return []int{2}
	}
	return nil
}

// TestCapturedMessagesRoundTrip unjellies every jellied part of every
// captured message, jellies it again, and checks that the whole message
// re-encodes to the captured bytes.
func TestCapturedMessagesRoundTrip(t *testing.T) {
	messages, parts := 0, 0
	kinds := make(map[string]int)
	for name, msgs := range capturedMessages(t) {
		for i, m := range msgs {
			pos := jellied(m.expr)
			if pos == nil {
				continue
			}
			out := slices.Clone(m.expr)
			for _, p := range pos {
				v, err := Unjelly(m.expr[p])
				if err != nil {
					t.Fatalf("%s message %d part %d: Unjelly: %v", name, i, p, err)
				}
				if out[p], err = Jelly(v); err != nil {
					t.Fatalf("%s message %d part %d: Jelly: %v", name, i, p, err)
				}
				parts++
			}
			enc, err := banana.Encode(out, true)
			if err != nil {
				t.Fatalf("%s message %d: banana: %v", name, i, err)
			}
			if !bytes.Equal(enc, m.bytes) {
				t.Fatalf("%s message %d changed:\n got % x\nwant % x", name, i, enc, m.bytes)
			}
			messages++
			kinds[string(m.expr[0].([]byte))]++
		}
	}
	// The annotated transcripts show 277 calls, 273 answers and 4 errors.
	const want = 554
	if messages != want {
		t.Errorf("round-tripped %d messages, want %d", messages, want)
	}
	t.Logf("%d captured messages (%v) with %d jellied parts re-encoded byte for byte", messages, kinds, parts)
}

// TestCapturedValues spot-checks what Unjelly makes of captured values.
func TestCapturedValues(t *testing.T) {
	msgs := capturedMessages(t)

	// The master's answer to login: (challenge bytes, challenger reference).
	login := msgs["pb_main.master_to_worker"][1].expr
	v, err := Unjelly(login[2])
	if err != nil {
		t.Fatal(err)
	}
	pair, ok := v.(Tuple)
	if !ok || len(pair) != 2 || len(pair[0].([]byte)) != 16 || pair[1] != (Remote{LUID: 1}) {
		t.Fatalf("login answer = %#v", v)
	}

	// The bad-password failure.
	f := findFailure(t, msgs["pb_badpw.master_to_worker"])
	if f.Type != "twisted.cred.error.UnauthorizedLogin" || f.Value != "" {
		t.Errorf("failure %q: %q", f.Type, f.Value)
	}
	if !f.Check("twisted.cred.error.UnauthorizedLogin") || !f.Check("twisted.cred.error.LoginFailed") || f.Check("builtins.RuntimeError") {
		t.Errorf("Check misclassifies, parents %q", f.Parents)
	}
	if pickled, _ := f.State.Get("pickled"); pickled != int64(1) {
		t.Errorf("extra key pickled = %#v", pickled)
	}

	// The duplicate-worker rejection.
	f = findFailure(t, msgs["pb_dup.master_to_worker"])
	if f.Error() != "builtins.RuntimeError: rejecting duplicate worker" {
		t.Errorf("duplicate failure: %q", f.Error())
	}
}

// findFailure returns the first failure sent in msgs.
func findFailure(t *testing.T, msgs []capturedMessage) *Failure {
	t.Helper()
	for _, m := range msgs {
		if string(m.expr[0].([]byte)) != "error" {
			continue
		}
		v, err := Unjelly(m.expr[2])
		if err != nil {
			t.Fatal(err)
		}
		f, ok := v.(*Failure)
		if !ok {
			t.Fatalf("error carries %T", v)
		}
		return f
	}
	t.Fatal("no error message")
	return nil
}
