package service

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCronLine(t *testing.T) {
	line, err := CronLine("/usr/local/bin/buildslave", "/home/bb/worker")
	if err != nil {
		t.Fatal(err)
	}
	if want := "@reboot /usr/local/bin/buildslave restart /home/bb/worker"; line != want {
		t.Errorf("CronLine = %q, want %q", line, want)
	}
}

// TestCronLineQuoting has sh split the command as cron would run it.
func TestCronLineQuoting(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	exe, basedir := "/opt/build slave/buildslave", `/home/bb/it's 100% $HOME; "w"`
	line, err := CronLine(exe, basedir)
	if err != nil {
		t.Fatal(err)
	}
	command, ok := strings.CutPrefix(line, "@reboot ")
	if !ok {
		t.Fatalf("%q is not an @reboot line", line)
	}
	if strings.Contains(strings.ReplaceAll(command, `\%`, ""), "%") {
		t.Fatalf("%q has a bare %%, which cron turns into a newline", command)
	}
	// cron turns \% into %, then hands the line to sh.
	command = strings.ReplaceAll(command, `\%`, "%")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, sh, "-c", `printf '%s\0' `+command).Output()
	if err != nil {
		t.Fatal(err)
	}
	argv := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if want := []string{exe, "restart", basedir}; !slices.Equal(argv, want) {
		t.Errorf("sh splits %q into %q, want %q", command, argv, want)
	}
}

func TestSchtasksCommand(t *testing.T) {
	d := Definition{Name: "buildslave-w1", Executable: `C:\Program Files\buildslave\buildslave.exe`, Basedir: `C:\Buildbot\my w1`, User: `.\bb`}
	line, err := SchtasksCommand(d)
	if err != nil {
		t.Fatal(err)
	}
	args := splitWindowsCommandLine(line)
	if len(args) < 2 || args[0] != "schtasks" || args[1] != "/Create" {
		t.Fatalf("%s is not schtasks /Create: %q", line, args)
	}
	opts := map[string]string{}
	for i := 2; i < len(args); i++ {
		if args[i] == "/F" {
			opts["/F"] = ""
			continue
		}
		if i+1 == len(args) {
			t.Fatalf("option %s has no value in %q", args[i], args)
		}
		opts[args[i]] = args[i+1]
		i++
	}
	want := map[string]string{"/TN": d.Name, "/SC": "ONSTART", "/RU": `.\bb`, "/RP": "*", "/F": ""}
	for k, v := range want {
		if got, ok := opts[k]; !ok || got != v {
			t.Errorf("%s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	run := splitWindowsCommandLine(opts["/TR"])
	if wantRun := []string{d.Executable, "start", "--nodaemon", d.Basedir}; !slices.Equal(run, wantRun) {
		t.Errorf("/TR %s runs %q, want %q", opts["/TR"], run, wantRun)
	}

	d.User = ""
	line, err = SchtasksCommand(d)
	if err != nil {
		t.Fatal(err)
	}
	args = splitWindowsCommandLine(line)
	if i := slices.Index(args, "/RU"); i < 0 || args[i+1] != "SYSTEM" || slices.Contains(args, "/RP") {
		t.Errorf("without a user: %q, want /RU SYSTEM and no /RP", args)
	}
}
