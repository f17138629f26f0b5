package service

import (
	"fmt"
	"os"
	"strings"
)

// SysVScript returns the init script that runs d where the system's
// service manager is SysV init (kardianos' "unix-systemv": no systemd as
// PID 1). It is what install writes to /etc/init.d/NAME, so that
// 'service install --dry-run' can show it.
//
// The script drives the worker the way a person does: 'buildslave start'
// (in the background; it writes BASEDIR/twistd.pid and returns once the
// worker is up) and 'buildslave stop' (a graceful stop, which the worker
// bounds itself). status follows the LSB: 0 running, 3 stopped.
func SysVScript(d Definition) (string, error) {
	if err := d.Validate(); err != nil {
		return "", err
	}
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("#!/bin/sh")
	line("# Buildbot worker %s, written by 'buildslave service install'.", d.Name)
	line("### BEGIN INIT INFO")
	line("# Provides:          %s", d.Name)
	line("# Required-Start:    $network $remote_fs")
	line("# Required-Stop:     $network $remote_fs")
	line("# Default-Start:     2 3 4 5")
	line("# Default-Stop:      0 1 6")
	line("# Short-Description: %s", displayName(d))
	line("# Description:       %s", oneLine(description(d)))
	line("### END INIT INFO")
	line("")
	line("exe=%s", shellQuote(d.Executable))
	line("basedir=%s", shellQuote(d.Basedir))
	line("user=%s", shellQuote(d.User))
	line(`pidfile="$basedir/twistd.pid"`)
	line("")
	line("# as_user runs a command as the worker's account.")
	line("as_user() {")
	line(`    if [ -n "$user" ] && [ "$(id -un)" != "$user" ]; then`)
	line(`        su -s /bin/sh "$user" -c 'exec "$0" "$@"' -- "$@"`)
	line("    else")
	line(`        "$@"`)
	line("    fi")
	line("}")
	line("")
	line("is_running() {")
	line(`    [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null`)
	line("}")
	line("")
	line(`case "$1" in`)
	line("start)")
	line(`    if is_running; then echo "Running"; exit 0; fi`)
	line(`    cd "$basedir" || exit 1`)
	line(`    as_user "$exe" start --quiet "$basedir"`)
	line("    ;;")
	line("stop)")
	line(`    if ! is_running; then echo "Stopped"; exit 0; fi`)
	line(`    as_user "$exe" stop --quiet "$basedir"`)
	line("    ;;")
	line("restart|force-reload)")
	line(`    "$0" stop && "$0" start`)
	line("    ;;")
	line("status)")
	line(`    if is_running; then echo "Running"; exit 0; fi`)
	line(`    echo "Stopped"; exit 3`)
	line("    ;;")
	line("*)")
	line(`    echo "Usage: $0 {start|stop|restart|force-reload|status}" >&2`)
	line("    exit 2")
	line("    ;;")
	line("esac")
	return b.String(), nil
}

func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}

// removeSysVLinks removes the runlevel links kardianos makes when it
// installs an init script (S50NAME, K02NAME) and leaves behind, dangling,
// when it removes it.
func removeSysVLinks(name string) {
	for _, rl := range []string{"0", "1", "2", "3", "4", "5", "6"} {
		for _, link := range []string{"S50" + name, "K02" + name} {
			path := "/etc/rc" + rl + ".d/" + link
			if target, err := os.Readlink(path); err == nil && target == "/etc/init.d/"+name {
				os.Remove(path)
			}
		}
	}
}
