package command

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/buildslave/buildslave/internal/pytext"
)

// argsFromJSON turns fuzz input into command arguments of the shapes the
// master's decoded values take: integral numbers become int64, the rest
// float64; strings stay str. Anything but a JSON object is no Args.
func argsFromJSON(data []byte) (Args, bool) {
	var m map[string]any
	if json.Unmarshal(data, &m) != nil || m == nil {
		return nil, false
	}
	return neutralJSON(m).(map[string]any), true
}

func neutralJSON(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<62 {
			return int64(x)
		}
		return x
	case []any:
		for i := range x {
			x[i] = neutralJSON(x[i])
		}
		return x
	case map[string]any:
		for k := range x {
			x[k] = neutralJSON(x[k])
		}
		return x
	}
	return v
}

// FuzzCommandArgs feeds arbitrary arguments to every command's argument
// checks, as a hostile master could send them: each must accept or refuse
// them with an error naming no Go type, and never panic. Nothing runs.
func FuzzCommandArgs(f *testing.F) {
	for _, seed := range []string{
		`{"workdir": "wd", "command": ["echo", "hi"], "env": {"A": "1", "P": ["x", "y"]}, "timeout": 10, "maxTime": null}`,
		`{"workdir": "wd", "command": "echo $HOME", "logfiles": {"l": {"filename": "f.log", "follow": true}}, "initial_stdin": "in"}`,
		`{"workdir": "wd", "command": [["obfuscated", "secret", "XXX"]], "timeout": -1, "sigtermTime": 0.5, "interruptSignal": "TERM"}`,
		`{"workdir": 3, "command": {}, "env": [], "usePTY": "slave-config"}`,
		`{"path": "/tmp/x", "blocksize": 16384, "maxsize": 10, "mode": 420}`,
		`{"path": 1, "blocksize": -5, "maxsize": "x", "mode": 1e300}`,
		`{"paths": ["/a", 3], "path": ["x"], "timeout": 1e400}`,
	} {
		f.Add([]byte(seed))
	}
	codec, err := pytext.Lookup("utf-8")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		args, ok := argsFromJSON(data)
		if !ok {
			return
		}
		var errs []error
		_, err := parseShellArgs(args, codec)
		errs = append(errs, err)
		_, err = readDownloadParams(args)
		errs = append(errs, err)
		_, err = readUploadParams(args)
		errs = append(errs, err)
		for _, key := range []string{"timeout", "maxTime", "sigtermTime"} {
			_, err = secondsArg(args, key)
			errs = append(errs, err)
		}
		_, err = pathArg(args, "path")
		errs = append(errs, err)
		_, err = pathsArg(args, "paths")
		errs = append(errs, err)
		for _, name := range []string{"shell", "downloadFile", "uploadFile", "uploadDirectory", "stat", "rmdir", "mkdir", "glob", "listdir", "cpdir", "rmfile"} {
			_, err := NewRegistry().New(name, args, &Environment{})
			errs = append(errs, err)
		}
		for _, err := range errs {
			if err == nil {
				continue
			}
			for _, goName := range []string{"interface {}", "map[string]", "[]uint8", "int64", "float64", "command.Args"} {
				if s := err.Error(); strings.Contains(s, goName) {
					t.Errorf("error %q names the Go type %s", s, goName)
				}
			}
		}
	})
}
