package hostinfo

import (
	"strings"
	"testing"
)

func TestParseCPUInfo(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"x86": {
			"processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n",
			"Intel(R) Xeon(R) CPU @ 2.20GHz",
		},
		"old arm": {"Processor\t: ARMv7 Processor rev 4 (v7l)\nprocessor\t: 0\nHardware\t: BCM2835\n", "ARMv7 Processor rev 4 (v7l)"},
		"power":   {"processor\t: 0\ncpu\t\t: POWER9 (raw), altivec supported\n", "POWER9 (raw), altivec supported"},
		"arm64":   {"processor\t: 0\nBogoMIPS\t: 50.00\nCPU part\t: 0xd0c\n", ""},
	} {
		if got := parseCPUInfo(strings.NewReader(tc.in)); got != tc.want {
			t.Errorf("%s: got %q, want %q", name, got, tc.want)
		}
	}
}
