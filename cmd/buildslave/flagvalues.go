package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/buildslave/buildslave/config"
)

// noneInt is an integer option that, as in buildbot-worker, also accepts
// "None": the setting's "not set" value, which the configuration stores as
// 0 (retry for ever, detect the CPUs, keep every log).
type noneInt struct{ p *int }

func (v noneInt) String() string {
	if v.p == nil || *v.p == 0 {
		return "None"
	}
	return strconv.Itoa(*v.p)
}

func (v noneInt) Set(s string) error {
	if s == "None" {
		*v.p = 0
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("needs a number or None")
	}
	if n < 0 {
		return fmt.Errorf("needs a number from 0 up, or None")
	}
	*v.p = n
	return nil
}

func (noneInt) Type() string { return "int" }

// umaskValue is the --umask option. buildbot-worker pasted its text into a
// Python file, so people write 022 (octal, Python 2 style), 0o22 (octal)
// or 18 (decimal); all three mean the same here. None leaves it unset.
type umaskValue struct{ p **int }

func (v umaskValue) String() string {
	if v.p == nil || *v.p == nil {
		return "None"
	}
	return "0o" + config.FormatUmask(**v.p)
}

func (v umaskValue) Set(s string) error {
	if s == "None" {
		*v.p = nil
		return nil
	}
	u, err := parseUmask(s)
	if err != nil {
		return err
	}
	*v.p = &u
	return nil
}

func (umaskValue) Type() string { return "umask" }

func parseUmask(s string) (int, error) {
	digits, base := s, 10
	switch {
	case strings.HasPrefix(s, "0o"), strings.HasPrefix(s, "0O"):
		digits, base = s[2:], 8
	case len(s) > 1 && s[0] == '0':
		digits, base = s[1:], 8
	}
	u, err := strconv.ParseUint(digits, base, 16)
	if err != nil || digits == "" {
		return 0, fmt.Errorf("needs a number such as 022, 0o22 or 18, or None")
	}
	if u > config.MaxUmask {
		return 0, fmt.Errorf("umask %#o is out of range 0 to 0777", u)
	}
	return int(u), nil
}
