package server

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser starts Debian's headless Chromium for the test, skipping when
// it is not installed, except in CI.
func browser(t *testing.T) context.Context {
	t.Helper()
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if runtime.GOOS == "windows" {
		t.Skip("the browser test runs in the Unix build")
	}
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is needed in CI (apt-get install chromium)")
		}
		t.Skip("chromium is not installed (Debian: apt-get install chromium)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	tctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return tctx
}

// TestWebPageMovesAWorker clicks through the page in a real browser: it
// lists pools, masters and workers, refuses a move without a token, and
// moves a worker with one.
func TestWebPageMovesAWorker(t *testing.T) {
	f := newFixture(t, "sqlite:///"+filepath.Join(t.TempDir(), "a.db"))
	ctx := browser(t)
	row := `tr[data-worker="w1"]`
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.TextContent(css(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(f.srv.URL+"/"),
		chromedp.WaitVisible(css(row+` button.move`)),
	); err != nil {
		t.Fatal(err)
	}
	pools, masters, master := text(`#pools tbody`), text(`#masters tbody`), text(row+` td.master`)
	if !strings.Contains(pools, "p") || !strings.Contains(masters, "m1") || !strings.Contains(masters, "m2") || master != "" {
		t.Fatalf("page shows pools %q, masters %q, w1 on %q", pools, masters, master)
	}

	// Without a token the move is refused, and the page says so.
	if err := chromedp.Do(ctx,
		chromedp.SetValue(css(row+` select.move-target`), "m2"),
		chromedp.Click(css(row+` button.move`)),
		chromedp.WaitVisible(css(`#status.error`)),
	); err != nil {
		t.Fatal(err)
	}
	if status := text(`#status`); !strings.Contains(status, "could not move w1") || !strings.Contains(status, "token") {
		t.Errorf("status without a token: %q", status)
	}
	if w, _ := f.store.GetWorker(context.Background(), "w1", false); w.CurrentMaster != "" {
		t.Fatalf("moved without a token: %+v", w)
	}

	// With the token it moves, and the table shows the new master.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(css(`#token`), f.admin),
		chromedp.SetValue(css(row+` select.move-target`), "m2"),
		chromedp.Click(css(row+` button.move`)),
	); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('tr[data-worker="w1"] td.master').textContent === "m2"`)); err != nil {
		t.Fatalf("the page never showed w1 on m2: %v", err)
	}
	status, m2row := text(`#status`), text(`#masters tbody tr[data-master="m2"]`)
	if status != "moved w1 to m2" || !strings.HasSuffix(m2row, "1") {
		t.Errorf("after the move: status %q, m2 row %q", status, m2row)
	}
	if w, _ := f.store.GetWorker(context.Background(), "w1", false); w.CurrentMaster != "m2" {
		t.Errorf("store after the move: %+v", w)
	}
}
