//go:build !windows

// Only Windows starts services through a program that talks back to the
// service manager; service_run_windows.go is that program.

package main

import "errors"

// runService explains that systemd, launchd and the rest run the worker
// with 'start --nodaemon'.
func (a *app) runService(string, string) error {
	return errors.New("'service run' is for the Windows service manager; " +
		"on this system the service runs 'buildslave start --nodaemon BASEDIR'")
}
