//go:build !windows

// Off Windows a command's process tree is its process group (see
// proc_unix.go): there is nothing to hold beside the process itself.

package command

import "os/exec"

// processTree holds nothing here; see jobtree_windows.go.
type processTree struct{}

// adoptTree has nothing to do here.
func adoptTree(*exec.Cmd) (processTree, error) { return processTree{}, nil }

// releaseTree has nothing to do here: what a command leaves behind in
// its process group is left alone, as with the reference.
func releaseTree(*child) {}
