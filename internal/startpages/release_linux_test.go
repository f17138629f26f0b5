package startpages

import (
	"os"
	"testing"
)

// changed is written before the release and read after it: a writable
// mapping given back would read as the file's zero again.
var changed = []int{0}

func TestReleaseGivesBackPagesAndKeepsWhatChanged(t *testing.T) {
	changed[0] = 42
	before, after, err := Release()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("resident: %d kB before, %d kB after", before>>10, after>>10)
	if after >= before {
		t.Errorf("Release left %d bytes resident of %d", after, before)
	}
	if changed[0] != 42 {
		t.Errorf("a variable changed before the release reads %d after it: a writable page was dropped", changed[0])
	}
	// What runs afterwards maps its pages back.
	if _, err := os.Stat("."); err != nil {
		t.Fatal(err)
	}
	if again, _, err := Release(); err != nil || again <= 0 {
		t.Errorf("a second Release: %d, %v", again, err)
	}
}

func TestReadOnlyRanges(t *testing.T) {
	maps := `00400000-00971000 r-xp 00000000 fe:00 10150533                           /work/bin/buildslave
00971000-00f55000 r--p 00571000 fe:00 10150533                           /work/bin/buildslave
00f55000-0105d000 rw-p 00b55000 fe:00 10150533                           /work/bin/buildslave
0105d000-030aa000 rw-p 00000000 00:00 0 
7fa3787a0000-7fa3787a2000 r-xp 00000000 00:00 0                          [vdso]
7fa3787b0000-7fa3787c2000 r--p 00000000 fe:00 999                        /usr/lib/other.so
7fa3787d0000-7fa3787e2000 r--s 00000000 fe:00 10150533                   /work/bin/buildslave
`
	got, err := readOnlyRanges([]byte(maps), 0xfe, 0, 10150533)
	if err != nil {
		t.Fatal(err)
	}
	want := []addrRange{{0x400000, 0x971000}, {0x971000, 0xf55000}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ranges %x, want %x", got, want)
	}
	if _, err := readOnlyRanges([]byte("zz-00 r-xp 0 fe:00 1 /x\n"), 0xfe, 0, 1); err == nil {
		t.Error("a bad address range was accepted")
	}
}
