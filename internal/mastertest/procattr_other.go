//go:build !unix

package mastertest

import (
	"os"
	"syscall"
)

// Without process groups the best we can do is kill the child itself.
var (
	termSignal = os.Kill
	killSignal = os.Kill
)

func newProcAttr() *syscall.SysProcAttr { return nil }

func signalGroup(p *os.Process, sig os.Signal) error { return p.Signal(sig) }
