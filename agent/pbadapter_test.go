package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/buildslave/buildslave/agent/command"
	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/protocol/jelly"
)

func TestTranslatePaths(t *testing.T) {
	const b = "/w/b1"
	home, _ := os.UserHomeDir()
	tests := []struct {
		name string
		in   command.Args
		want command.Args
	}{
		{"shell", command.Args{"workdir": "build"}, command.Args{"workdir": "/w/b1/build"}},
		{"shell", command.Args{"workdir": "/abs"}, command.Args{"workdir": "/abs"}},
		{"uploadFile", command.Args{"workdir": "build", "workersrc": "out.txt", "blocksize": int64(1)},
			command.Args{"path": "/w/b1/build/out.txt", "blocksize": int64(1)}},
		{"uploadFile", command.Args{"workdir": "build", "workersrc": "~/x"},
			command.Args{"path": filepath.Join(home, "x")}},
		{"downloadFile", command.Args{"workdir": "build", "workerdest": "sub/dl.txt"},
			command.Args{"path": "/w/b1/build/sub/dl.txt"}},
		{"downloadFile", command.Args{"workdir": "build", "slavedest": "dl.txt"},
			command.Args{"path": "/w/b1/build/dl.txt"}},
		{"mkdir", command.Args{"dir": "build/sub"}, command.Args{"dir": "build/sub", "paths": []any{"/w/b1/build/sub"}}},
		{"rmdir", command.Args{"dir": []any{"a", "/b"}}, command.Args{"dir": []any{"a", "/b"}, "paths": []any{"/w/b1/a", "/b"}}},
		{"cpdir", command.Args{"fromdir": "a", "todir": "b"},
			command.Args{"fromdir": "a", "todir": "b", "from_path": "/w/b1/a", "to_path": "/w/b1/b"}},
		{"stat", command.Args{"file": "s.txt", "workdir": "build"},
			command.Args{"file": "s.txt", "workdir": "build", "path": "/w/b1/build/s.txt"}},
		{"stat", command.Args{"file": "build/s.txt"}, command.Args{"file": "build/s.txt", "path": "/w/b1/build/s.txt"}},
		{"glob", command.Args{"path": "build/*.txt"}, command.Args{"path": "/w/b1/build/*.txt"}},
		{"listdir", command.Args{"dir": "build"}, command.Args{"dir": "build", "path": "/w/b1/build"}},
		{"rmfile", command.Args{"path": "build/s.txt"}, command.Args{"path": "/w/b1/build/s.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := translatePaths(tt.name, tt.in, b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(tt.in, tt.want) {
				t.Errorf("got %#v\nwant %#v", tt.in, tt.want)
			}
		})
	}
	if err := translatePaths("rmdir", command.Args{"dir": []any{int64(3)}}, b); err == nil {
		t.Error("rmdir with a non-string entry: no error")
	}
}

func TestConvertArgsKeepsShapes(t *testing.T) {
	d := jelly.NewDict(
		"command", jelly.List{"echo", jelly.Tuple{"obfuscated", "real", "fake"}},
		"env", jelly.NewDict("A", "1", "L", jelly.List{"/a", "/b"}, "N", nil),
		"usePTY", false,
		"timeout", int64(300),
		[]byte("bytekey"), "v",
	)
	args, refs := convertArgs(d)
	if len(refs) != 0 {
		t.Errorf("refs = %v", refs)
	}
	want := command.Args{
		"command": []any{"echo", []any{"obfuscated", "real", "fake"}},
		"env":     map[string]any{"A": "1", "L": []any{"/a", "/b"}, "N": nil},
		"usePTY":  false,
		"timeout": int64(300),
		"bytekey": "v",
	}
	if !reflect.DeepEqual(args, want) {
		t.Errorf("got %#v\nwant %#v", args, want)
	}
}

func TestUpdateValueTypes(t *testing.T) {
	if got := updateValue(command.LogText{Name: "mylog", Text: "x\n"}); !reflect.DeepEqual(got, jelly.Tuple{"mylog", "x\n"}) {
		t.Errorf("log = %#v", got)
	}
	if got := updateValue([]string{"a"}); !reflect.DeepEqual(got, jelly.List{"a"}) {
		t.Errorf("files = %#v", got)
	}
	if got := updateValue(command.Stat{1, 2, 3}); len(got.(jelly.Tuple)) != 10 {
		t.Errorf("stat = %#v", got)
	}
	if got := updateValue(3); got != int64(3) {
		t.Errorf("rc = %#v", got)
	}
}

func TestFailureOfOSError(t *testing.T) {
	err := fmt.Errorf("creating workdir: %w", &fs.PathError{Op: "mkdir", Path: "/x/y", Err: syscall.ENOTDIR})
	f := failureOf(err)
	if f.Type != "builtins.NotADirectoryError" || !f.Check("builtins.OSError") {
		t.Errorf("failure = %+v", f)
	}
	if f.Value != "[Errno 20] Not a directory: '/x/y'" {
		t.Errorf("value = %q", f.Value)
	}
	if f := failureOf(errors.New("boom")); f.Type != "builtins.RuntimeError" || f.Value != "boom" {
		t.Errorf("failure = %+v", f)
	}
}

func TestWorkerInfo(t *testing.T) {
	base := t.TempDir()
	if err := os.MkdirAll(filepath.Join(base, "info"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "info", "admin"), []byte("Ann <ann@example.org>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "info", "host"), []byte("a test host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "info", "version"), []byte("overridden\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WORKERPASS", "sekrit")
	cfg := &config.Config{Basedir: base, NumCPUs: 3, DeleteLeftoverDirs: true}
	b := newBot(cfg, slog.New(slog.DiscardHandler), "1.2.3")
	info := map[string]any{}
	var keys []string
	for _, f := range b.workerInfo() {
		info[f.Key] = f.Value
		keys = append(keys, f.Key)
	}
	if keys[0] != "admin" || keys[1] != "host" {
		t.Errorf("info files not first: %v", keys)
	}
	checks := map[string]any{
		"admin": "Ann <ann@example.org>\n", "host": "a test host\n", "version": "1.2.3",
		"numcpus": 3, "basedir": base, "system": "posix", "delete_leftover_dirs": 1,
	}
	for k, want := range checks {
		if info[k] != want {
			t.Errorf("%s = %#v, want %#v", k, info[k], want)
		}
	}
	for _, f := range info["environ"].([]field) {
		if f.Key == "WORKERPASS" {
			t.Error("the password variable reaches the master")
		}
	}
	cmds := map[string]any{}
	for _, f := range info["worker_commands"].([]field) {
		cmds[f.Key] = f.Value
	}
	if v, ok := cmds["shell"].(string); !ok || v < "3" {
		t.Errorf("shell version = %#v, want >= 3.0", cmds["shell"])
	}
}

func TestSetBuilderListCreatesDirs(t *testing.T) {
	base := t.TempDir()
	if err := os.MkdirAll(filepath.Join(base, "old"), 0o755); err != nil {
		t.Fatal(err)
	}
	b := newBot(&config.Config{Basedir: base}, slog.New(slog.DiscardHandler), "x")
	got, err := b.setBuilderList([]builderSpec{{"b1", "b1"}, {"b2", "dir2"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].builderDir() != filepath.Join(base, "dir2") {
		t.Fatalf("builders = %v", got)
	}
	for _, d := range []string{"b1", "dir2", "old"} {
		if st, err := os.Stat(filepath.Join(base, d)); err != nil || !st.IsDir() {
			t.Errorf("%s: %v", d, err)
		}
	}
	again, _ := b.setBuilderList([]builderSpec{{"b1", "b1"}})
	if again[0] != got[0] {
		t.Error("builder b1 was replaced instead of kept")
	}
	if len(b.builders) != 1 {
		t.Errorf("builders left: %d", len(b.builders))
	}
}

func TestBackoff(t *testing.T) {
	max := 10 * time.Second
	prev := time.Duration(0)
	for n := 1; n < 20; n++ {
		d := backoff(n, max)
		if d < time.Second || d > max+time.Second {
			t.Errorf("backoff(%d) = %v out of [1s, max+1s]", n, d)
		}
		if n > 1 && d+time.Second < prev {
			t.Errorf("backoff(%d) = %v shrank from %v", n, d, prev)
		}
		prev = d
	}
	if d := backoff(50, max); d < max {
		t.Errorf("backoff(50) = %v, want the cap", d)
	}
}
