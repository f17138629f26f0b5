package service

import (
	"fmt"
	"strings"
)

// CronLine returns the crontab line that restarts the worker in basedir
// at every boot: restart rather than start, so that a stale twistd.pid
// left by a power cut is cleaned up. cron runs the line with /bin/sh, and
// a '%' would end the command there.
func CronLine(executable, basedir string) (string, error) {
	d := Definition{Name: "cron", Executable: executable, Basedir: basedir}
	if err := d.Validate(); err != nil {
		return "", err
	}
	words := []string{shellQuote(executable), "restart", shellQuote(basedir)}
	return "@reboot " + strings.ReplaceAll(strings.Join(words, " "), "%", `\%`), nil
}

// shellQuote quotes s for sh when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:,=@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// SchtasksCommand returns the schtasks command that creates a scheduled
// task running the worker at every startup, as d.User (SYSTEM when
// empty). schtasks asks for the user's password itself (/RP *), so that
// it never appears on a command line.
func SchtasksCommand(d Definition) (string, error) {
	if err := d.Validate(); err != nil {
		return "", err
	}
	user := d.User
	if user == "" {
		user = "SYSTEM"
	}
	run := WindowsCommandLine(append([]string{d.Executable}, d.unixArguments()...))
	args := []string{"schtasks", "/Create", "/TN", d.Name, "/TR", run, "/SC", "ONSTART", "/RU", user}
	if !strings.EqualFold(user, "SYSTEM") {
		args = append(args, "/RP", "*")
	}
	args = append(args, "/F")
	return WindowsCommandLine(args), nil
}

// SchtasksNote explains to a person what the task cannot say itself.
func SchtasksNote(d Definition) string {
	return fmt.Sprintf(`Run the command above in an administrator's command prompt.
Task Scheduler stops a task after 72 hours by default; lift that limit in PowerShell:
  Set-ScheduledTask -TaskName %s -Settings (New-ScheduledTaskSettingsSet -ExecutionTimeLimit 0)
`, d.Name)
}
