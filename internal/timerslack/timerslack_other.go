//go:build !linux

package timerslack

import (
	"errors"
	"time"
)

// Relax reports errors.ErrUnsupported: only Linux lets a program choose
// how late its timers may fire.
func Relax(time.Duration) (*Relaxed, error) { return nil, errors.ErrUnsupported }

func (r *Relaxed) startWithOriginal(start func() error) error { return start() }
