package main

import (
	"runtime"
)

// oneProcUnlessSet runs the Go scheduler on one processor unless the
// environment's GOMAXPROCS says otherwise.
//
// The worker moves bytes between sockets, pipes and files and computes
// little, in short bursts; the builds' own processes do the work. With
// more than one P, nearly every wake-up of a goroutine (a block from the
// master, a chunk of a command's output) sets an idle P's thread spinning
// in search of more work and hands goroutines between threads, which costs
// more CPU than the work woken for. make bench, on 2 cores: the worker's
// CPU for a 5 MiB log fell from 0.060 to 0.029 s and for a 32 MiB download
// from 0.040 to 0.027 s, and no transfer got slower. Go preempts a long
// computation within 10 ms, so a busy goroutine cannot starve the
// keepalive or another build's output.
func oneProcUnlessSet(lookupEnv func(string) (string, bool)) {
	if _, set := lookupEnv("GOMAXPROCS"); set {
		return
	}
	runtime.GOMAXPROCS(1)
}
