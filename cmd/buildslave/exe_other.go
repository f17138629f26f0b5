//go:build !linux && !windows

// Other systems have no cheap, unprivileged way to name a process's
// program (the BSDs' procfs is rarely mounted): callers then assume a live
// pid is a worker, as buildbot-worker always does.

package main

import "errors"

func processExecutable(int) (string, error) {
	return "", errors.ErrUnsupported
}
