package startpages

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Release drops the mappings of the executable's read-only pages and
// returns the process's resident set size before and after, in bytes.
func Release() (before, after int64, err error) {
	if before, err = residentBytes(); err != nil {
		return 0, 0, err
	}
	var exe unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &exe); err != nil {
		return 0, 0, fmt.Errorf("finding the program file: %w", err)
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, 0, fmt.Errorf("reading the mappings: %w", err)
	}
	ranges, err := readOnlyRanges(maps, unix.Major(exe.Dev), unix.Minor(exe.Dev), exe.Ino)
	if err != nil {
		return 0, 0, err
	}
	for _, r := range ranges {
		// Syscall rather than unix.Madvise: these are not Go memory, and
		// a []byte over them would only hide that.
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, r.start, r.end-r.start, unix.MADV_DONTNEED); errno != 0 {
			return 0, 0, fmt.Errorf("releasing %#x-%#x: %w", r.start, r.end, errno)
		}
	}
	if after, err = residentBytes(); err != nil {
		return 0, 0, err
	}
	return before, after, nil
}

type addrRange struct{ start, end uintptr }

// readOnlyRanges picks out of /proc/self/maps the private mappings of the
// file (major:minor, inode) that cannot be written: r-xp and r--p.
func readOnlyRanges(maps []byte, major, minor uint32, ino uint64) ([]addrRange, error) {
	dev := fmt.Sprintf("%02x:%02x", major, minor)
	var ranges []addrRange
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		// address perms offset dev inode [path]
		f := strings.Fields(sc.Text())
		if len(f) < 5 || (f[1] != "r-xp" && f[1] != "r--p") || f[3] != dev || f[4] != strconv.FormatUint(ino, 10) {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil || end <= start {
			return nil, fmt.Errorf("reading the mappings: bad address range %q", f[0])
		}
		ranges = append(ranges, addrRange{uintptr(start), uintptr(end)})
	}
	return ranges, sc.Err()
}

// residentBytes is the process's resident set size: the second field of
// /proc/self/statm, in pages.
func residentBytes() (int64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, fmt.Errorf("reading the resident set size: %w", err)
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, fmt.Errorf("reading the resident set size: %q", b)
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("reading the resident set size: %w", err)
	}
	return pages * int64(os.Getpagesize()), nil
}
