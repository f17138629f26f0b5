package command

import (
	"os"
	"os/user"
	"runtime"
	"strings"
)

// JoinPath joins path elements as Python's os.path.join does, which is how
// the reference worker builds every path from the master's arguments: an
// absolute element discards everything before it, an empty last element
// leaves a trailing separator, and nothing is cleaned (".." stays). On
// Windows a drive or UNC prefix is handled as ntpath.join handles it.
func JoinPath(elem ...string) string {
	if runtime.GOOS == "windows" {
		return joinWindows(elem...)
	}
	return joinPosix(elem...)
}

// joinPosix is posixpath.join.
func joinPosix(elem ...string) string {
	var path string
	for _, e := range elem {
		switch {
		case strings.HasPrefix(e, "/"):
			path = e
		case path == "" || strings.HasSuffix(path, "/"):
			path += e
		default:
			path += "/" + e
		}
	}
	return path
}

// joinWindows is ntpath.join (Python 3.11).
func joinWindows(elem ...string) string {
	if len(elem) == 0 {
		return ""
	}
	isSep := func(c byte) bool { return c == '\\' || c == '/' }
	drive, path := splitDriveWindows(elem[0])
	for _, e := range elem[1:] {
		d, p := splitDriveWindows(e)
		if p != "" && isSep(p[0]) {
			// An absolute path: it replaces the path, and the drive if it
			// names one (or if there was none).
			if d != "" || drive == "" {
				drive = d
			}
			path = p
			continue
		}
		if d != "" && d != drive {
			if !strings.EqualFold(d, drive) {
				// Another drive: start over there.
				drive, path = d, p
				continue
			}
			drive = d // the same drive spelled differently
		}
		if path != "" && !isSep(path[len(path)-1]) {
			path += `\`
		}
		path += p
	}
	// A relative path after a UNC share needs a separator.
	if path != "" && !isSep(path[0]) && drive != "" && !strings.HasSuffix(drive, ":") {
		return drive + `\` + path
	}
	return drive + path
}

// splitDriveWindows is ntpath.splitdrive (Python 3.11): "C:" or a UNC
// "\\server\share" prefix, and the rest.
func splitDriveWindows(p string) (drive, rest string) {
	if len(p) < 2 {
		return "", p
	}
	norm := strings.ReplaceAll(p, "/", `\`)
	if strings.HasPrefix(norm, `\\`) {
		start := 2
		if len(norm) >= 8 && strings.EqualFold(norm[:8], `\\?\UNC\`) {
			start = 8
		}
		i := strings.IndexByte(norm[start:], '\\')
		if i < 0 {
			return p, ""
		}
		i += start
		j := strings.IndexByte(norm[i+1:], '\\')
		if j < 0 {
			return p, ""
		}
		j += i + 1
		return p[:j], p[j:]
	}
	if norm[1] == ':' {
		return p[:2], p[2:]
	}
	return "", p
}

// ExpandUser replaces a leading "~" or "~user" in path by that user's home
// directory, as Python's os.path.expanduser does; a path without one, or
// naming an unknown user, is returned unchanged.
func ExpandUser(path string) string {
	if runtime.GOOS == "windows" {
		return expandUserWindows(path, os.Getenv)
	}
	return expandUserPosix(path, os.LookupEnv, lookupHome)
}

// lookupHome returns the home directory of the named user, or of the
// current user for "".
func lookupHome(name string) (string, bool) {
	var u *user.User
	var err error
	if name == "" {
		u, err = user.Current()
	} else {
		u, err = user.Lookup(name)
	}
	if err != nil {
		return "", false
	}
	return u.HomeDir, true
}

// expandUserPosix is posixpath.expanduser: $HOME for "~" (even empty), the
// password database if HOME is unset or for "~user".
func expandUserPosix(path string, lookupEnv func(string) (string, bool), home func(string) (string, bool)) string {
	if !strings.HasPrefix(path, "~") {
		return path
	}
	i := strings.IndexByte(path[1:], '/') + 1
	if i == 0 {
		i = len(path)
	}
	var dir string
	if i == 1 {
		var ok bool
		if dir, ok = lookupEnv("HOME"); !ok {
			if dir, ok = home(""); !ok {
				return path
			}
		}
	} else {
		var ok bool
		if dir, ok = home(path[1:i]); !ok {
			return path
		}
	}
	dir = strings.TrimRight(dir, "/")
	if r := dir + path[i:]; r != "" {
		return r
	}
	return "/"
}

// expandUserWindows is ntpath.expanduser (Python 3.11): %USERPROFILE% (or
// %HOMEDRIVE%%HOMEPATH%) for "~"; another user's home is guessed to be a
// sibling of the current user's profile directory.
func expandUserWindows(path string, getenv func(string) string) string {
	if !strings.HasPrefix(path, "~") {
		return path
	}
	i := 1
	for i < len(path) && path[i] != '\\' && path[i] != '/' {
		i++
	}
	home := getenv("USERPROFILE")
	if home == "" {
		p := getenv("HOMEPATH")
		if p == "" {
			return path
		}
		home = joinWindows(getenv("HOMEDRIVE"), p)
	}
	if i != 1 {
		target, current := path[1:i], getenv("USERNAME")
		if target != current {
			dir, base := splitWindows(home)
			if base != current {
				return path // not a usual profile directory: no guess
			}
			home = joinWindows(dir, target)
		}
	}
	return home + path[i:]
}

// splitWindows is ntpath.split: the directory and the last element.
func splitWindows(p string) (dir, base string) {
	d, rest := splitDriveWindows(p)
	i := len(rest)
	for i > 0 && rest[i-1] != '\\' && rest[i-1] != '/' {
		i--
	}
	head, tail := rest[:i], rest[i:]
	if h := strings.TrimRight(head, `\/`); h != "" {
		head = h
	}
	return d + head, tail
}
