package service

import (
	"strings"
	"testing"
)

func TestDefaultName(t *testing.T) {
	for in, want := range map[string]string{
		"/home/bb/worker":   "buildslave-worker",
		"/srv/my worker!":   "buildslave-my-worker",
		"/":                 "buildslave",
		"/srv/.hidden.":     "buildslave-hidden",
		"/srv/Linux_x86-64": "buildslave-Linux_x86-64",
	} {
		got := DefaultName(in)
		if got != want {
			t.Errorf("DefaultName(%q) = %q, want %q", in, got, want)
		}
		if err := (Definition{Name: got, Executable: "/b", Basedir: "/w"}).Validate(); err != nil {
			t.Errorf("DefaultName(%q) = %q, which does not validate: %v", in, got, err)
		}
	}
}

func TestValidate(t *testing.T) {
	good := Definition{Name: "buildslave-w", Executable: "/usr/bin/buildslave", Basedir: "/w", User: "bb"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	windows := Definition{Name: "w", Executable: `C:\bs.exe`, Basedir: `\\server\share\w`, User: `DOMAIN\bb`}
	if err := windows.Validate(); err != nil {
		t.Errorf("Windows paths: %v", err)
	}
	for what, change := range map[string]func(*Definition){
		"empty name":       func(d *Definition) { d.Name = "" },
		"name with blank":  func(d *Definition) { d.Name = "a b" },
		"name with slash":  func(d *Definition) { d.Name = "../etc/x" },
		"relative program": func(d *Definition) { d.Executable = "buildslave" },
		"relative basedir": func(d *Definition) { d.Basedir = "w" },
		"newline basedir":  func(d *Definition) { d.Basedir = "/w\nExecStartPre=/bin/evil" },
		"template basedir": func(d *Definition) { d.Basedir = "/w/{{Name}}" },
		"user with blank":  func(d *Definition) { d.User = "b b" },
		"user with NUL":    func(d *Definition) { d.User = "b\x00" },
	} {
		d := good
		change(&d)
		if err := d.Validate(); err == nil {
			t.Errorf("%s: %+v validates", what, d)
		}
		if _, err := SystemdUnit(d); err == nil {
			t.Errorf("%s: SystemdUnit accepts %+v", what, d)
		}
	}
}

func TestSysVScript(t *testing.T) {
	d := Definition{Name: "buildslave-w", Executable: "/opt/bs dir/buildslave", Basedir: "/srv/it's", User: "bb"}
	text, err := SysVScript(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"#!/bin/sh\n", "# Provides:          buildslave-w\n",
		"exe='/opt/bs dir/buildslave'\n", `basedir='/srv/it'\''s'` + "\n", "user=bb\n",
		`as_user "$exe" start --quiet "$basedir"`, `as_user "$exe" stop --quiet "$basedir"`,
		`echo "Stopped"; exit 3`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("script lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "{{") {
		t.Error("the script holds {{, which kardianos would take for a template action")
	}
}
