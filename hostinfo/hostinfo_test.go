package hostinfo

import (
	"runtime"
	"strings"
	"testing"
)

func TestCollect(t *testing.T) {
	dir := t.TempDir()
	i := Collect(dir, "1.2.3")
	if i.Arch != runtime.GOARCH || i.CPUs != runtime.NumCPU() || i.Version != "1.2.3" || i.Basedir != dir {
		t.Errorf("Collect = %+v", i)
	}
	if i.OS == "" {
		t.Error("no OS name")
	}
	if runtime.GOOS == "linux" || runtime.GOOS == "darwin" || runtime.GOOS == "freebsd" || runtime.GOOS == "windows" {
		if i.Memory == 0 || i.DiskFree == 0 || i.Kernel == "" {
			t.Errorf("memory, disk or kernel unknown: %+v", i)
		}
	}
	if diskFree(dir+"/does/not/exist") != 0 {
		t.Error("free space of a missing directory")
	}
}

func TestText(t *testing.T) {
	i := Info{
		OS:       "Debian GNU/Linux 12 (bookworm)",
		Kernel:   "6.1.0-18-amd64",
		Arch:     "amd64",
		CPUModel: "Example CPU @ 2.40GHz",
		CPUs:     8,
		Memory:   16 << 30,
		DiskFree: 100 << 30,
		Version:  "1.2.3",
	}
	want := "# Written by buildslave 1.2.3: describe this build host as you like; the master shows this file.\n" +
		"OS: Debian GNU/Linux 12 (bookworm), kernel 6.1.0-18-amd64, amd64\n" +
		"CPU: 8 x Example CPU @ 2.40GHz\n" +
		"Memory: 16.0 GiB\n"
	if got := i.Text(); got != want {
		t.Errorf("Text() =\n%s\nwant\n%s", got, want)
	}

	unknown := Info{}.Text()
	if !strings.HasPrefix(unknown, "# ") || strings.Count(unknown, "unknown") < 4 {
		t.Errorf("Text() of an unknown host =\n%s", unknown)
	}
}

func TestWarnings(t *testing.T) {
	big := Info{CPUs: 4, Memory: 8 << 30, DiskFree: 100 << 30, Basedir: "/w"}
	if w := big.Warnings(); len(w) != 0 {
		t.Errorf("warnings for a big host: %q", w)
	}
	if w := (Info{}).Warnings(); len(w) != 0 {
		t.Errorf("warnings for an unknown host: %q", w)
	}
	small := Info{CPUs: 1, Memory: 256 << 20, DiskFree: 5 << 30, Basedir: "/w"}
	w := small.Warnings()
	if len(w) != 3 {
		t.Fatalf("warnings for a small host: %q", w)
	}
	for n, want := range []string{"1 CPU", "256.0 MiB", "5.0 GiB of disk is free in /w"} {
		if !strings.Contains(w[n], want) {
			t.Errorf("warning %q does not contain %q", w[n], want)
		}
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[uint64]string{
		0:         "unknown",
		1:         "1 B",
		1536:      "1.5 KiB",
		512 << 20: "512.0 MiB",
		30 << 30:  "30.0 GiB",
		3 << 40:   "3.0 TiB",
		1<<64 - 1: "16.0 EiB",
	} {
		if got := size(n); got != want {
			t.Errorf("size(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseOSRelease(t *testing.T) {
	in := `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
# a comment
ID=debian
EMPTY=
QUOTED_EMPTY=""
SINGLE='kept as is'
Mixed_Case="x"
no equals sign
HOME_URL="https://www.debian.org/"
`
	got := parseOSRelease(strings.NewReader(in))
	want := map[string]string{
		"pretty_name":  "Debian GNU/Linux 12 (bookworm)",
		"name":         "Debian GNU/Linux",
		"version_id":   "12",
		"id":           "debian",
		"quoted_empty": "",
		"single":       "'kept as is'",
		"mixed_case":   "x",
		"home_url":     "https://www.debian.org/",
	}
	if len(got) != len(want) {
		t.Errorf("got %d fields %q, want %d", len(got), got, len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestOSReleaseNeverNil(t *testing.T) {
	if OSRelease() == nil {
		t.Error("OSRelease() = nil")
	}
}
