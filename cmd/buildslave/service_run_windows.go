// The Windows service manager starts a service's program and then talks to
// it: it asks it to stop instead of signalling it. service_run_other.go is
// the twin for systems whose managers just start and signal the worker.

package main

import (
	"errors"

	"github.com/buildslave/buildslave/service"
)

// runService runs the worker of basedir as the Windows service name.
func (a *app) runService(name, basedir string) error {
	if service.Interactive() {
		return errors.New("'service run' is how the Windows service manager starts the worker; " +
			"run 'buildslave start --nodaemon BASEDIR' yourself, or 'buildslave service start BASEDIR'")
	}
	// runForeground puts the worker in a kill-on-close job object, so no
	// build outlives the service.
	return service.Run(name, newServiceWorker(a, basedir))
}
