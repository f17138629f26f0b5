package main

import "testing"

func TestParseUmask(t *testing.T) {
	for in, want := range map[string]int{
		"022":   0o22,
		"0o22":  0o22,
		"0O022": 0o22,
		"18":    18,
		"0":     0,
		"077":   0o77,
		"0777":  0o777,
		"511":   0o777,
	} {
		got, err := parseUmask(in)
		if err != nil || got != want {
			t.Errorf("parseUmask(%q) = %#o, %v; want %#o", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", "0o", "089", "-1", "+2", "1000", "0o1000", "2.5", "0x12"} {
		if got, err := parseUmask(in); err == nil {
			t.Errorf("parseUmask(%q) = %#o, want an error", in, got)
		}
	}
}

func TestNoneInt(t *testing.T) {
	n := 7
	v := noneInt{&n}
	if err := v.Set("None"); err != nil || n != 0 || v.String() != "None" {
		t.Errorf("Set(None): %v, %d, %q", err, n, v.String())
	}
	if err := v.Set("12"); err != nil || n != 12 || v.String() != "12" {
		t.Errorf("Set(12): %v, %d, %q", err, n, v.String())
	}
	for _, bad := range []string{"-1", "x", ""} {
		if err := v.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
}

func TestUmaskValue(t *testing.T) {
	var u *int
	v := umaskValue{&u}
	if v.String() != "None" {
		t.Errorf("unset umask shows as %q", v.String())
	}
	if err := v.Set("022"); err != nil || u == nil || *u != 0o22 || v.String() != "0o022" {
		t.Errorf("Set(022): %v, %v, %q", err, u, v.String())
	}
	if err := v.Set("None"); err != nil || u != nil {
		t.Errorf("Set(None): %v, %v", err, u)
	}
}
