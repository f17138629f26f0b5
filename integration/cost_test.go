package integration

import (
	"regexp"
	"runtime"
	"strconv"
	"testing"
)

// startPagesLine is the worker's log line of internal/startpages' release.
var startPagesLine = regexp.MustCompile(`gave back the program's start-up pages.* rss_before="([0-9.]+) MB" rss_after="([0-9.]+) MB"`)

// An idle worker gives back the pages of its program that only start-up
// used, once connected, and builds as before afterwards.
func TestConnectedWorkerGivesBackStartPages(t *testing.T) {
	forEachProtocol(t, testConnectedWorkerGivesBackStartPages)
}

func testConnectedWorkerGivesBackStartPages(t *testing.T, protocol string) {
	if runtime.GOOS != "linux" {
		t.Skip("the start-up pages are given back on Linux only")
	}
	m := oneBuilderMaster(t)
	w := startOursOver(t, m, protocol, "w1", "s3cret-pw")
	ctx := testContext(t)
	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	var match []string
	waitFor(t, ctx, "the start-up pages to be given back", func() bool {
		match = startPagesLine.FindStringSubmatch(w.LogTail(100))
		return match != nil
	})
	before, err1 := strconv.ParseFloat(match[1], 64)
	after, err2 := strconv.ParseFloat(match[2], 64)
	if err1 != nil || err2 != nil || after <= 0 || after >= before {
		t.Errorf("resident set %s MB before the release, %s MB after", match[1], match[2])
	}
	t.Logf("resident set: %.1f MB before the release, %.1f MB after", before, after)
	// What the build needs comes back on use.
	forceSuccess(t, ctx, m, "b1")
}
