package command

import (
	"errors"
	"maps"
	"testing"
)

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	want := map[string]string{}
	// The 14 names of buildbot-worker 3.7 (COMMANDS.md §1.1).
	for _, name := range []string{"shell", "uploadFile", "upload_file", "uploadDirectory",
		"upload_directory", "downloadFile", "download_file", "mkdir", "rmdir", "cpdir",
		"stat", "glob", "listdir", "rmfile"} {
		want[name] = "3.3"
	}
	if got := r.Versions(); !maps.Equal(got, want) {
		t.Errorf("Versions() = %v, want %v", got, want)
	}
	cmd, err := r.New("shell", Args{"workdir": "build", "command": "true"}, &Environment{})
	if err != nil || cmd == nil {
		t.Fatalf("New(shell) = %v, %v", cmd, err)
	}

	_, err = r.New("frobnicate", Args{}, &Environment{})
	var unknown *UnknownCommandError
	if !errors.As(err, &unknown) || unknown.Name != "frobnicate" {
		t.Fatalf("unknown command: error %#v", err)
	}
	if got, want := err.Error(), "unrecognized WorkerCommand 'frobnicate'"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}

	_, err = r.New("shell", Args{"workdir": "build"}, &Environment{})
	var missing *MissingArgsError
	if !errors.As(err, &missing) {
		t.Fatalf("missing command: error %#v", err)
	}
	if got, want := err.Error(), "WorkerShellCommand is missing args: command"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	_, err = r.New("shell", Args{"workdir": nil}, nil)
	if got, want := err.Error(), "WorkerShellCommand is missing args: workdir, command"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}
