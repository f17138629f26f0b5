package command

import (
	"runtime"
	"strings"
	"testing"
)

func TestJoinPosix(t *testing.T) {
	// Expectations from posixpath.join.
	tests := []struct {
		elem []string
		want string
	}{
		{[]string{"a", "b"}, "a/b"},
		{[]string{"a/", "b"}, "a/b"},
		{[]string{"/a", "b"}, "/a/b"},
		{[]string{"a", "/b"}, "/b"},
		{[]string{"/w/b1", "build"}, "/w/b1/build"},
		{[]string{"/w/b1", "/abs"}, "/abs"},
		{[]string{"/w/b1", "../x"}, "/w/b1/../x"},
		{[]string{"", "a"}, "a"},
		{[]string{"a", ""}, "a/"},
		{[]string{"a", "", "b"}, "a/b"},
		{[]string{"", "", ""}, ""},
		{[]string{"/w", "build", "~x"}, "/w/build/~x"},
		{[]string{"/w", "build", ""}, "/w/build/"},
		{[]string{"a//", "b"}, "a//b"},
		{[]string{"a", "b/", "c"}, "a/b/c"},
		{[]string{"/", "a"}, "/a"},
		{[]string{"a", "./b"}, "a/./b"},
		{[]string{"/w/b1", "build", "/etc/x", "y"}, "/etc/x/y"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := joinPosix(tt.elem...); got != tt.want {
			t.Errorf("joinPosix(%q) = %q, want %q", tt.elem, got, tt.want)
		}
	}
}

func TestJoinWindows(t *testing.T) {
	// Expectations from ntpath.join (Python 3.11).
	tests := []struct {
		elem []string
		want string
	}{
		{[]string{"a", "b"}, `a\b`},
		{[]string{`a\`, "b"}, `a\b`},
		{[]string{`C:\w`, "build"}, `C:\w\build`},
		{[]string{`C:\w`, `D:\x`}, `D:\x`},
		{[]string{`C:\w`, `\x`}, `C:\x`},
		{[]string{`C:\w`, "c:x"}, `c:\w\x`},
		{[]string{`C:\w`, "D:x"}, "D:x"},
		{[]string{"C:", "x"}, "C:x"},
		{[]string{`\\srv\share`, "x"}, `\\srv\share\x`},
		{[]string{`\\srv\share\`, "x"}, `\\srv\share\x`},
		{[]string{`C:\w`, "/x"}, "C:/x"},
		{[]string{"a/", "b"}, "a/b"},
		{[]string{"", "a"}, "a"},
		{[]string{"a", ""}, `a\`},
		{[]string{`C:\w`, "build", ".."}, `C:\w\build\..`},
		{[]string{`\\srv\share`, `\x`}, `\\srv\share\x`},
		{[]string{`C:\a`, "C:"}, `C:\a\`},
		{[]string{`C:\a`, `c:\b`}, `c:\b`},
		{[]string{`\\srv`, "x"}, `\\srv\x`},
		{[]string{"//srv/share/d", "e"}, `//srv/share/d\e`},
	}
	for _, tt := range tests {
		if got := joinWindows(tt.elem...); got != tt.want {
			t.Errorf("joinWindows(%q) = %q, want %q", tt.elem, got, tt.want)
		}
	}
}

func TestJoinPathUsesThisOS(t *testing.T) {
	got := JoinPath("base", "x")
	if runtime.GOOS == "windows" {
		if got != `base\x` {
			t.Errorf("JoinPath = %q", got)
		}
	} else if got != "base/x" {
		t.Errorf("JoinPath = %q", got)
	}
}

func TestExpandUserPosix(t *testing.T) {
	home := func(name string) (string, bool) {
		switch name {
		case "":
			return "/from/passwd", true
		case "root":
			return "/root", true
		}
		return "", false
	}
	// Expectations from posixpath.expanduser with HOME set as given.
	tests := []struct {
		home, path, want string
	}{
		{"/home/me", "~", "/home/me"},
		{"/home/me", "~/x", "/home/me/x"},
		{"/home/me", "x/~", "x/~"},
		{"/home/me", "~root/x", "/root/x"},
		{"/home/me", "~nosuchuserxyz/x", "~nosuchuserxyz/x"},
		{"/home/me", "~/", "/home/me/"},
		{"/home/me/", "~", "/home/me"},
		{"/home/me/", "~/x", "/home/me/x"},
		{"/", "~", "/"},
		{"/", "~/x", "/x"},
		{"/", "~/", "/"},
		{"", "~", "/"},
		{"", "~/x", "/x"},
	}
	for _, tt := range tests {
		env := func(string) (string, bool) { return tt.home, true }
		if got := expandUserPosix(tt.path, env, home); got != tt.want {
			t.Errorf("HOME=%q: expandUser(%q) = %q, want %q", tt.home, tt.path, got, tt.want)
		}
	}
	unset := func(string) (string, bool) { return "", false }
	if got := expandUserPosix("~/x", unset, home); got != "/from/passwd/x" {
		t.Errorf("without HOME: %q", got)
	}
}

func TestExpandUserWindows(t *testing.T) {
	env := func(vars ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(vars); i += 2 {
				if strings.EqualFold(vars[i], k) {
					return vars[i+1]
				}
			}
			return ""
		}
	}
	profile := env("USERPROFILE", `C:\Users\me`, "USERNAME", "me")
	// Expectations from ntpath.expanduser (Python 3.11).
	tests := []struct {
		getenv     func(string) string
		path, want string
	}{
		{profile, "~", `C:\Users\me`},
		{profile, `~\x`, `C:\Users\me\x`},
		{profile, "~/x", `C:\Users\me/x`},
		{profile, `~bob\x`, `C:\Users\bob\x`},
		{profile, `~me\x`, `C:\Users\me\x`},
		{profile, "x~", "x~"},
		{env("USERPROFILE", `C:\Profiles\other`, "USERNAME", "me"), `~bob\x`, `~bob\x`},
		{env("HOMEDRIVE", "D:", "HOMEPATH", `\Users\me`, "USERNAME", "me"), `~\x`, `D:\Users\me\x`},
		{env("HOMEDRIVE", "D:", "HOMEPATH", `\Users\me`, "USERNAME", "me"), "~bob/x", `D:\Users\bob/x`},
		{env(), "~/x", "~/x"},
	}
	for _, tt := range tests {
		if got := expandUserWindows(tt.path, tt.getenv); got != tt.want {
			t.Errorf("expandUser(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}
