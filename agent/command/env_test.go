package command

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// sep joins path lists as MergeEnv does on this OS.
const sep = string(os.PathListSeparator)

func TestMergeEnv(t *testing.T) {
	worker := []string{
		"HOME=/tmp/bbcap/home", "LANG=C.UTF-8", "PATH=/usr/bin:/bin",
		"HARNESS_VAR=hv", "PYTHONPATH=/orig/pp",
	}
	tests := []struct {
		name      string
		environ   []string
		overrides map[string]any
		want      []string
	}{
		{
			// The 3.7 harness's "env handling" case.
			name:    "harness",
			environ: worker,
			overrides: map[string]any{
				"PYTHONPATH":  []any{"/a", "/b"},
				"HARNESS_VAR": nil,
				"X":           "${HOME}:${NOPE}:$HOME",
				"L":           []any{"p", "q"},
			},
			want: []string{
				"HOME=/tmp/bbcap/home", "L=p" + sep + "q", "LANG=C.UTF-8", "PATH=/usr/bin:/bin",
				"PYTHONPATH=/a" + sep + "/b" + sep + "/orig/pp", "X=/tmp/bbcap/home::$HOME",
			},
		},
		{
			name:      "PYTHONPATH without a worker PYTHONPATH",
			environ:   []string{"A=1"},
			overrides: map[string]any{"PYTHONPATH": "/x"},
			want:      []string{"A=1", "PYTHONPATH=/x" + sep},
		},
		{
			name:      "substitution reads the original environment",
			environ:   []string{"A=orig"},
			overrides: map[string]any{"A": "new", "B": "${A}", "C": "${}x"},
			want:      []string{"A=new", "B=orig", "C=x"},
		},
		{
			name:      "bytes values and no overrides",
			environ:   []string{"Z=1", "A=2", "=C:=C:\\", "broken"},
			overrides: map[string]any{"B": []byte("b")},
			want:      []string{"=C:=C:\\", "A=2", "B=b", "Z=1"},
		},
		{
			name:      "PYTHONPATH None removes it",
			environ:   []string{"PYTHONPATH=/p"},
			overrides: map[string]any{"PYTHONPATH": nil},
			want:      []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MergeEnv(tt.environ, tt.overrides)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestMergeEnvRejectsOtherValues(t *testing.T) {
	for _, v := range []any{int64(3), []any{"a", int64(1)}, map[string]any{}, true} {
		_, err := MergeEnv(nil, map[string]any{"K": v})
		if err == nil || err.Error() != "'env' values must be strings or lists; key 'K' is incorrect" {
			t.Errorf("value %#v: error %v", v, err)
		}
	}
}
