// Package service makes a buildslave worker a boot-time service: it writes
// the definitions the service managers read (a systemd unit, a launchd
// plist, a Windows service) and installs, starts, stops and removes them
// through github.com/kardianos/service. It also writes the classic boot
// hooks — a crontab @reboot line, a launchd plist, a Windows scheduled
// task — for people who prefer to install those by hand.
//
// Every service runs the worker as 'buildslave start --nodaemon BASEDIR'
// does, in the foreground under the manager, which restarts it when it
// exits. Stopping a service sends what asks the worker for a graceful
// shutdown (SIGTERM on Unix, the service stop request on Windows) and
// gives a running build a long time to finish before anything is killed.
//
// The definitions are generated here, in Go, rather than by kardianos'
// templates, so that 'service install --dry-run' shows exactly what would
// be installed and the tests can parse it.
package service
