package main

import (
	"os"
	"strings"
	"testing"
)

func TestBootHookCron(t *testing.T) {
	dir := workerDir(t)
	code, out, errOut := run(t, "boot-hook", "cron", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// Test directories have no characters that need quoting.
	if want := "@reboot " + exe + " restart " + dir + "\n"; out != want {
		t.Errorf("stdout %q, want %q", out, want)
	}
	if !strings.Contains(errOut, "crontab -e") {
		t.Errorf("stderr %q has no instructions", errOut)
	}
}

func TestBootHookLaunchd(t *testing.T) {
	dir := workerDir(t)
	code, out, errOut := run(t, "boot-hook", "launchd", "--user", "bb", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"<key>UserName</key>\n\t<string>bb</string>", "<string>" + dir + "</string>", "<key>KeepAlive</key>\n\t<true/>"} {
		if !strings.Contains(out, want) {
			t.Errorf("plist lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "launchctl load") {
		t.Errorf("stderr %q has no instructions", errOut)
	}
}

func TestBootHookSchtasks(t *testing.T) {
	dir := workerDir(t)
	code, out, errOut := run(t, "boot-hook", "schtasks", "--user", `.\bb`, dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, "schtasks /Create ") || !strings.Contains(out, `/RU .\bb /RP *`) || !strings.Contains(out, "start --nodaemon "+dir) {
		t.Errorf("stdout %q", out)
	}
	if !strings.Contains(errOut, "ExecutionTimeLimit") {
		t.Errorf("stderr %q does not explain the 72-hour limit", errOut)
	}
}
