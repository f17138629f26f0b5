package agent

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buildslave/buildslave/agent/command"
	"github.com/buildslave/buildslave/config"
)

// recordingSink keeps what a command sent, for the bot's tests.
type recordingSink struct {
	mu       sync.Mutex
	updates  []command.Update
	batches  int
	first    []command.Update // the first batch
	failure  error
	complete chan struct{}
}

func newRecordingSink() *recordingSink { return &recordingSink{complete: make(chan struct{})} }

func (s *recordingSink) SendUpdates(_ context.Context, u []command.Update) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates = append(s.updates, u...)
	if s.batches == 0 {
		s.first = append([]command.Update(nil), u...)
	}
	s.batches++
	return nil
}

func (s *recordingSink) Complete(_ context.Context, failure error) error {
	s.mu.Lock()
	s.failure = failure
	s.mu.Unlock()
	close(s.complete)
	return nil
}

func (s *recordingSink) wait(t *testing.T) {
	t.Helper()
	select {
	case <-s.complete:
	case <-time.After(30 * time.Second):
		t.Fatal("the command did not complete")
	}
}

func testBot(t *testing.T) *bot {
	return newBot(&config.Config{Basedir: t.TempDir()}, slog.New(slog.DiscardHandler), "test")
}

func TestBotRunsACommandWithoutABuilder(t *testing.T) {
	b := testBot(t)
	dir := filepath.Join(b.cfg.Basedir, "b1", "build")
	sink := newRecordingSink()
	if err := b.startCommand(context.Background(), nil, false, "0", "mkdir", command.Args{"paths": []any{dir}}, sink); err != nil {
		t.Fatal(err)
	}
	sink.wait(t)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("mkdir without a builder: %v", err)
	}
	// Complete is the command's last act; it is forgotten right after.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		n, last := b.activity()
		if n == 0 && !last.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d commands still registered after the end", n)
		}
	}
}

func TestBotInterruptsByIDAfterFlushing(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses sh")
	}
	b := testBot(t)
	// An hour's buffer: only the interrupt's flush sends the first line.
	if err := b.setOutputSettings(command.OutputSettings{BufferTimeout: time.Hour, BufferSize: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	sink := newRecordingSink()
	args := command.Args{"command": []any{"sh", "-c", "echo started; exec sleep 60"}, "workdir": b.cfg.Basedir}
	if err := b.startCommand(context.Background(), nil, false, "7", "shell", args, sink); err != nil {
		t.Fatal(err)
	}
	b.interruptCommand(context.Background(), "unknown", "no such id: only logged")
	// Give the echo time to reach the buffer, which only a flush empties.
	time.Sleep(time.Second)
	sink.mu.Lock()
	before := sink.batches
	sink.mu.Unlock()
	if before != 0 {
		t.Fatalf("%d batches before the interrupt with an hour's buffer", before)
	}
	b.interruptCommand(context.Background(), "7", "the test")
	sink.wait(t)
	// The flush sent the line on its own, before the kill's output.
	var firstKeys []string
	for _, u := range sink.first {
		firstKeys = append(firstKeys, u.Key)
	}
	if got := strings.Join(firstKeys, ","); got != "header,stdout" || sink.batches < 2 {
		t.Errorf("first batch %v of %d; want the header and stdout flushed before the kill's output", sink.first, sink.batches)
	}
	var rc any
	for _, u := range sink.updates {
		if u.Key == "rc" {
			rc = u.Value
		}
	}
	if rc == 0 || rc == nil {
		t.Errorf("rc %v after an interrupt, want a failure", rc)
	}
}

func TestBotRefusesBadOutputSettings(t *testing.T) {
	b := testBot(t)
	if err := b.setOutputSettings(command.OutputSettings{NewlineRE: `(?<=x)`}); err == nil {
		t.Error("a lookbehind newline_re was accepted")
	}
}

func TestBotSetupCommandsAreNotActivity(t *testing.T) {
	b := testBot(t)
	sink := newRecordingSink()
	dir := filepath.Join(b.cfg.Basedir, "b2")
	if err := b.startCommand(context.Background(), nil, true, "0", "mkdir", command.Args{"paths": []any{dir}}, sink); err != nil {
		t.Fatal(err)
	}
	sink.wait(t)
	if n, last := b.activity(); n != 0 || !last.IsZero() {
		t.Errorf("activity after a setup command = %d, %v; want none", n, last)
	}
}

// An unknown command is refused with 4.3's message, which names the
// command's id (base.py, ProtocolCommandBase).
func TestBotUnknownCommandNamesItsID(t *testing.T) {
	b := testBot(t)
	err := b.startCommand(context.Background(), nil, false, "12", "frobnicate", command.Args{}, newRecordingSink())
	if err == nil || err.Error() != "(command 12): unrecognized WorkerCommand 'frobnicate'" {
		t.Errorf("error %v", err)
	}
}
