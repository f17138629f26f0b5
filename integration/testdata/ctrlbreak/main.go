// Command ctrlbreak is a build step's process for the Wine tests: it
// reports each CTRL_BREAK (or CTRL_C) it gets and keeps running, so that
// only the job's termination can end it. Its arguments are ignored; the
// tests put a marker there to find it in the process list.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"time"
)

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt)
	fmt.Println("ready")
	timeout := time.After(2 * time.Minute)
	for {
		select {
		case <-c:
			fmt.Println("got CTRL_BREAK")
		case <-timeout:
			return
		}
	}
}
