package command

import (
	"errors"
	"maps"
	"testing"
)

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	if got, want := r.Versions(), map[string]string{"shell": "3.1"}; !maps.Equal(got, want) {
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
