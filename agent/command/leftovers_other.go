//go:build !linux

package command

// Off Linux a process group is not recorded: without /proc there is no
// cheap and certain way to tell the recorded processes from others that
// got the same numbers since, and a wrong kill is worse than an orphan.
// On Windows, ending a command's processes with the worker is the job
// objects' task.
func groupLeftover(*child, []string) (leftover, bool) { return leftover{}, false }

func endGroup(leftover) ([]int, error) { return nil, nil }
