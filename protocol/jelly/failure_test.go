package jelly

import (
	"bytes"
	"reflect"
	"testing"
)

// TestFailureMatchesCapture builds, from its fields alone, the failure the
// reference worker sent for an unknown command, and expects what it sent
// (but for the meaningless serial number "count").
func TestFailureMatchesCapture(t *testing.T) {
	captured := findFailure(t, capturedMessages(t)["pb_main.worker_to_master"])
	if captured.Type != "buildbot_worker.base.UnknownCommand" {
		t.Fatalf("unexpected captured failure %q", captured.Type)
	}
	captured.State.Set("count", int64(0))
	want := wire(t, captured)

	built := &Failure{
		Type:      captured.Type,
		Value:     captured.Value,
		Traceback: captured.Traceback,
		Parents:   captured.Parents,
	}
	if got := wire(t, built); !bytes.Equal(got, want) {
		t.Fatalf("built failure\n got % x\nwant % x", got, want)
	}
}

func TestFailureDefaults(t *testing.T) {
	v, err := fromWire(t, wire(t, &Failure{Type: "builtins.RuntimeError", Value: "boom"}))
	if err != nil {
		t.Fatal(err)
	}
	f := v.(*Failure)
	want := &Failure{
		Type:      "builtins.RuntimeError",
		Value:     "boom",
		Traceback: "Traceback unavailable\n",
		Parents:   []string{"builtins.RuntimeError", "builtins.Exception", "builtins.BaseException", "builtins.object"},
	}
	got := *f
	got.State = nil
	if !reflect.DeepEqual(&got, want) {
		t.Fatalf("got %#v, want %#v", &got, want)
	}
	if typ, _ := f.State.Get("type"); !reflect.DeepEqual(typ, []byte("builtins.RuntimeError")) {
		t.Errorf("type sent as %#v, want bytes", typ)
	}
	keys := make([]any, 0, f.State.Len())
	for _, it := range f.State.Items {
		keys = append(keys, it.Key)
	}
	wantKeys := []any{"count", "type", "value", "captureVars", "frames", "stack", "tb", "parents", "unsafeTracebacks", "traceback"}
	if !reflect.DeepEqual(keys, wantKeys) {
		t.Errorf("state keys %q, want %q", keys, wantKeys)
	}
}

func TestFailureStateWins(t *testing.T) {
	// A received failure goes back exactly as it came, whatever its fields
	// say: State is the authority.
	st := NewDict("type", "x.Y", "value", "v", "parents", Tuple{[]byte("x.Y"), "builtins.Exception"}, "extra", int64(1))
	v, err := fromWire(t, wire(t, &Failure{Type: "ignored", State: st}))
	if err != nil {
		t.Fatal(err)
	}
	f := v.(*Failure)
	if f.Type != "x.Y" || f.Value != "v" || !reflect.DeepEqual(f.Parents, []string{"x.Y", "builtins.Exception"}) {
		t.Fatalf("read back %#v", f)
	}
	if !reflect.DeepEqual(f.State, st) {
		t.Fatalf("state %#v, want %#v", f.State, st)
	}
}

func TestFailureWithMissingKeys(t *testing.T) {
	v, err := Unjelly([]any{b(tagFailure), []any{b("dictionary")}})
	if err != nil {
		t.Fatal(err)
	}
	f := v.(*Failure)
	if f.Type != "" || f.Parents != nil || f.State.Len() != 0 {
		t.Fatalf("got %#v", f)
	}
}
