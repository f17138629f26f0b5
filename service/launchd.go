package service

import (
	"encoding/xml"
	"fmt"
	"path/filepath"
	"strings"
)

// LaunchdLogName is the file, in the base directory, that launchd appends
// the worker's stdout and stderr to.
const LaunchdLogName = "launchd.log"

// LaunchdPlist returns the launchd job (for /Library/LaunchDaemons) that
// runs d: started at boot (RunAtLoad), started again whenever it exits
// (KeepAlive). Unloading the job sends SIGTERM, a graceful shutdown of the
// worker, and SIGKILL only after ExitTimeOut.
func LaunchdPlist(d Definition) (string, error) {
	if err := d.Validate(); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
`)
	key := func(k string) { fmt.Fprintf(&b, "\t<key>%s</key>\n", plistEscape(k)) }
	str := func(k, v string) {
		key(k)
		fmt.Fprintf(&b, "\t<string>%s</string>\n", plistEscape(v))
	}
	boolean := func(k string, v bool) {
		key(k)
		fmt.Fprintf(&b, "\t<%t/>\n", v)
	}
	integer := func(k string, v int) {
		key(k)
		fmt.Fprintf(&b, "\t<integer>%d</integer>\n", v)
	}

	str("Label", d.Name)
	key("ProgramArguments")
	b.WriteString("\t<array>\n")
	for _, arg := range append([]string{d.Executable}, d.launchdArguments()...) {
		fmt.Fprintf(&b, "\t\t<string>%s</string>\n", plistEscape(arg))
	}
	b.WriteString("\t</array>\n")
	if d.User != "" {
		str("UserName", d.User)
	}
	str("WorkingDirectory", d.Basedir)
	logPath := filepath.Join(d.Basedir, LaunchdLogName)
	if strings.Contains(d.Basedir, `\`) {
		logPath = d.Basedir + `\` + LaunchdLogName
	}
	str("StandardOutPath", logPath)
	str("StandardErrorPath", logPath)
	boolean("RunAtLoad", true)
	boolean("KeepAlive", true)
	integer("ThrottleInterval", int(RestartDelay.Seconds()))
	integer("ExitTimeOut", int(StopTimeout.Seconds()))
	b.WriteString("</dict>\n</plist>\n")
	return b.String(), nil
}

func plistEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
