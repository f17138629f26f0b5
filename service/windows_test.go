package service

import (
	"slices"
	"strings"
	"testing"
)

// splitWindowsCommandLine splits a command line as CommandLineToArgvW and
// the C runtime do: blanks separate words outside quotes, 2n backslashes
// before a quote are n backslashes and the quote toggles quoting, 2n+1
// are n backslashes and a literal quote; other backslashes are literal.
func splitWindowsCommandLine(s string) []string {
	var argv []string
	var word strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			n := 0
			for i < len(s) && s[i] == '\\' {
				n++
				i++
			}
			if i < len(s) && s[i] == '"' {
				word.WriteString(strings.Repeat(`\`, n/2))
				if n%2 == 1 {
					word.WriteByte('"')
				} else {
					quoted = !quoted
				}
			} else {
				word.WriteString(strings.Repeat(`\`, n))
				i--
			}
			inWord = true
		case c == '"':
			quoted = !quoted
			inWord = true
		case (c == ' ' || c == '\t') && !quoted:
			if inWord {
				argv = append(argv, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		argv = append(argv, word.String())
	}
	return argv
}

func TestWindowsCommandLine(t *testing.T) {
	for _, argv := range [][]string{
		{`C:\Program Files\buildslave\buildslave.exe`, "start", `C:\w`},
		{`C:\x.exe`, `a "quoted" word`, `trailing\`, `trailing space\ `, ``, `back\\"slash`},
	} {
		line := WindowsCommandLine(argv)
		if got := splitWindowsCommandLine(line); !slices.Equal(got, argv) {
			t.Errorf("WindowsCommandLine(%q) = %s, which splits into %q", argv, line, got)
		}
	}
}

func TestWindowsDefinition(t *testing.T) {
	d := Definition{Name: "buildslave-w1", Executable: `C:\Program Files\buildslave\buildslave.exe`, Basedir: `C:\Buildbot\w1`, User: `.\bb`}
	text, err := WindowsDefinition(d, true)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("row %q is not Key: value", line)
		}
		rows[k] = strings.TrimSpace(v)
	}
	if rows["Service name"] != d.Name || rows["Account"] != `.\bb` || rows["Start type"] != "automatic" {
		t.Errorf("definition rows: %q", rows)
	}
	if rows["Password"] != "given (not shown)" {
		t.Errorf("Password row = %q", rows["Password"])
	}
	argv := splitWindowsCommandLine(rows["Command line"])
	want := []string{d.Executable, "service", "run", "--name", d.Name, d.Basedir}
	if !slices.Equal(argv, want) {
		t.Errorf("command line %s splits into %q, want %q", rows["Command line"], argv, want)
	}

	d.User = ""
	text, err = WindowsDefinition(d, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Account:         LocalSystem\n") || !strings.Contains(text, "Password:        none\n") {
		t.Errorf("definition without a user:\n%s", text)
	}
}
