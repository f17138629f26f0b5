package command

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// quietOutput is an Output whose timer never fires during a test.
func quietOutput(sink Sink, size int) *Output {
	return newOutput(context.Background(), sink, size, time.Hour)
}

func TestOutputMergesConsecutiveItems(t *testing.T) {
	sink := newFakeSink()
	out := quietOutput(sink, bufferSize)
	out.Header("cmd\n")
	out.Header(" in dir /w\n")
	out.Stdout("a\n")
	out.Stdout("b\n")
	out.Stderr("e\n")
	out.Stdout("c\n")
	out.Log("mylog", "l1\n")
	out.Log("other", "o\n")
	out.Log("mylog", "l2\n")
	out.RC(0)
	out.RC(1) // non-text items are never merged
	out.Add("stdout", "via Add\n")
	out.Add("log", LogText{Name: "other", Text: "via Add\n"})
	if n := sink.batchCount(); n != 0 {
		t.Fatalf("%d batches sent before Flush", n)
	}
	if err := out.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []Update{
		{"header", "cmd\n in dir /w\n"},
		{"stdout", "a\nb\n"},
		{"stderr", "e\n"},
		{"stdout", "c\n"},
		{"log", LogText{"mylog", "l1\n"}},
		{"log", LogText{"other", "o\n"}},
		{"log", LogText{"mylog", "l2\n"}},
		{"rc", 0},
		{"rc", 1},
		{"stdout", "via Add\n"},
		{"log", LogText{"other", "via Add\n"}},
	}
	if got := sink.updates(); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if n := sink.batchCount(); n != 1 {
		t.Errorf("%d batches, want 1", n)
	}
}

func TestOutputFinishTerminatesPartialLines(t *testing.T) {
	sink := newFakeSink()
	out := quietOutput(sink, bufferSize)
	out.Stdout("out")
	out.Stderr("err")
	out.Log("mylog", "log")
	out.Log("zlog", "z")
	out.Header("hd")
	out.Stdout("\xe2\x82") // an incomplete character: invalid at the end
	out.RC(0)
	out.Add("elapsed", 0.5)
	if err := out.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []Update{
		{"rc", 0},
		{"elapsed", 0.5},
		{"header", "hd\n"},
		{"log", LogText{"mylog", "log\n"}},
		{"stderr", "err\n"},
		{"stdout", "out\ufffd\n"},
		{"log", LogText{"zlog", "z\n"}},
	}
	if got := sink.updates(); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}

	// Whatever comes after Finish is dropped.
	out.Stdout("late\n")
	out.RC(1)
	if err := out.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := out.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := sink.updates(); len(got) != len(want) {
		t.Errorf("updates after Finish were sent: %v", got[len(want):])
	}
}

func TestOutputDecodesUTF8AcrossWrites(t *testing.T) {
	sink := newFakeSink()
	out := quietOutput(sink, bufferSize)
	out.Stdout("price: \xe2\x82")
	out.Stdout("\xac 5\n")
	out.Stderr("bad \xff byte\n")
	if err := out.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := sink.updates()
	if s := streamText(got, "stdout"); s != "price: € 5\n" {
		t.Errorf("stdout %q", s)
	}
	if s := streamText(got, "stderr"); s != "bad \ufffd byte\n" {
		t.Errorf("stderr %q", s)
	}
}

func TestOutputSendsWhenFull(t *testing.T) {
	sink := newFakeSink()
	out := quietOutput(sink, bufferSize)
	line := strings.Repeat("x", 99) + "\n" // 100 + 16 units
	const fit = bufferSize / 116           // 564 lines fill the buffer
	for range fit {
		out.Stdout(line)
	}
	if n := sink.batchCount(); n != 0 {
		t.Fatalf("sent after %d units", fit*116)
	}
	out.Stdout(line) // would exceed: the buffer goes first
	if got := sink.updates(); len(got) != 1 || got[0].Value != strings.Repeat(line, fit) {
		t.Fatalf("first message: %d updates", len(got))
	}
	if err := out.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := sink.updates(); len(got) != 2 || got[1].Value != line {
		t.Errorf("then %d updates", len(got))
	}
}

func TestOutputCountsNonTextItems(t *testing.T) {
	sink := newFakeSink()
	out := quietOutput(sink, 5*itemUnits)
	for i := range 5 {
		out.RC(i)
	}
	if n := sink.batchCount(); n != 0 {
		t.Fatal("sent before full")
	}
	out.RC(5)
	if got := sink.updates(); len(got) != 5 {
		t.Fatalf("first message has %d updates, want 5", len(got))
	}
}

func TestOutputSplitsOversizedText(t *testing.T) {
	sink := newFakeSink()
	out := quietOutput(sink, bufferSize)
	var b strings.Builder
	for i := range 100000 {
		fmt.Fprintf(&b, "line %06d\n", i)
	}
	text := b.String() // 1.2 MB in one write
	out.Stdout(text)
	if err := out.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	var got strings.Builder
	for _, batch := range sink.batches {
		units := 0
		for _, u := range batch {
			s := u.Value.(string)
			if !strings.HasSuffix(s, "\n") {
				t.Fatal("a message ends inside a line")
			}
			units += textUnits(s)
			got.WriteString(s)
		}
		if units > bufferSize {
			t.Errorf("a message of %d units", units)
		}
	}
	if got.String() != text {
		t.Error("text lost or reordered")
	}
}

func TestOutputTimerFlush(t *testing.T) {
	sink := newFakeSink()
	out := newOutput(context.Background(), sink, bufferSize, 10*time.Millisecond)
	out.Stdout("tick\n")
	sink.waitFor(t, "the timer's send", func(u []Update) bool { return len(u) == 1 })
	// The timer is re-armed by the next item.
	out.Stderr("tock\n")
	sink.waitFor(t, "the second send", func(u []Update) bool { return len(u) == 2 })
	if err := out.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []Update{{"stdout", "tick\n"}, {"stderr", "tock\n"}}
	if got := sink.updates(); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v", got)
	}
}

func TestOutputRemembersSendError(t *testing.T) {
	sink := newFakeSink()
	sink.sendErr = errors.New("connection lost")
	out := quietOutput(sink, bufferSize)
	out.Stdout("a\n")
	err := out.Flush(context.Background())
	if err == nil || !errors.Is(err, sink.sendErr) {
		t.Fatalf("Flush: %v", err)
	}
	out.Stdout("b\n")
	if err := out.Finish(context.Background()); !errors.Is(err, sink.sendErr) {
		t.Errorf("Finish: %v", err)
	}
	if n := sink.batchCount(); n != 1 {
		t.Errorf("%d sends after the failure", n-1)
	}
}

// panickingSink panics whatever it is asked.
type panickingSink struct{}

func (*panickingSink) SendUpdates(context.Context, []Update) error { panic("boom") }
func (*panickingSink) Complete(context.Context, error) error       { panic("boom") }

func TestOutputSurvivesPanickingSink(t *testing.T) {
	out := quietOutput(&panickingSink{}, bufferSize)
	out.Stdout("a\n")
	if err := out.Finish(context.Background()); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("Finish: %v", err)
	}
}

func TestOutputConcurrentWriters(t *testing.T) {
	sink := newFakeSink()
	out := newOutput(context.Background(), sink, 4096, time.Millisecond)
	var wg sync.WaitGroup
	var want [2]strings.Builder
	for i, write := range []func(string){out.Stdout, out.Stderr} {
		for n := range 2000 {
			fmt.Fprintf(&want[i], "%d\n", n)
		}
		wg.Go(func() {
			for n := range 2000 {
				write(fmt.Sprintf("%d\n", n))
			}
		})
	}
	wg.Wait()
	if err := out.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := sink.updates()
	if streamText(got, "stdout") != want[0].String() || streamText(got, "stderr") != want[1].String() {
		t.Error("lines lost or reordered")
	}
}

// Output arriving in reads larger than the room left fills the buffer
// with whole lines before it is sent, so that every update but the last
// is nearly full: the master stores fewer, larger updates.
func TestOutputFillsEachUpdate(t *testing.T) {
	sink := newFakeSink()
	out := quietOutput(sink, 100)
	line := "aaaa\n" // 5 bytes + 16 = 21 units
	for range 4 {
		out.Stdout(strings.Repeat(line, 3))
	}
	if err := out.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, u := range sink.updates() {
		sizes = append(sizes, strings.Count(u.Value.(string), "\n"))
	}
	// 100 units hold 4 lines: 12 lines make updates of 4, 4 and 4.
	if !slices.Equal(sizes, []int{4, 4, 4}) {
		t.Errorf("lines per update %v, want [4 4 4]", sizes)
	}
}
