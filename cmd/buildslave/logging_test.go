package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/buildslave/buildslave/config"
)

func TestRotateMegabytes(t *testing.T) {
	for bytes, want := range map[int64]int{
		1:                1,
		megabyte:         1,
		megabyte + 1:     2,
		10000000:         10,
		100 * megabyte:   100,
		math.MaxInt64:    math.MaxInt32,
		-5:               1,
		0:                1,
		3*megabyte - 100: 3,
	} {
		if got := rotateMegabytes(bytes); got != want {
			t.Errorf("rotateMegabytes(%d) = %d, want %d", bytes, got, want)
		}
	}
}

func TestOpenLog(t *testing.T) {
	for _, noRotate := range []bool{false, true} {
		dir := t.TempDir()
		cfg := config.Defaults()
		cfg.Basedir, cfg.NoLogRotate = dir, noRotate
		var console strings.Builder
		logger, closeLog, err := openLog(&cfg, &console)
		if err != nil {
			t.Fatal(err)
		}
		logger.Info("hello", "n", 1)
		if err := closeLog(); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dir, logFileName))
		if err != nil {
			t.Fatal(err)
		}
		for what, s := range map[string]string{"file": string(data), "console": console.String()} {
			if !strings.Contains(s, "msg=hello n=1") {
				t.Errorf("no-logrotate %v: %s has %q", noRotate, what, s)
			}
		}
	}
}

func TestOpenLogUnwritable(t *testing.T) {
	// A regular file where the base directory should be.
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, noRotate := range []bool{false, true} {
		cfg := config.Defaults()
		cfg.Basedir, cfg.NoLogRotate = notDir, noRotate
		if _, _, err := openLog(&cfg, nil); err == nil {
			t.Errorf("no-logrotate %v: a log below a regular file opened", noRotate)
		}
	}
}

// TestLogRotatesAndKeepsLogCount writes past log_size several times: the
// current log stays below the limit and at most log_count old logs are kept
// (lumberjack prunes them in the background, hence the wait).
func TestLogRotatesAndKeepsLogCount(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Defaults()
	cfg.Basedir, cfg.LogSize, cfg.LogCount = dir, 1000, 2 // rounds up to 1 MiB
	logger, closeLog, err := openLog(&cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("x", 1000)
	for i := 0; i < 4500; i++ { // about 4.5 MiB: four rotations
		logger.Info(line, "i", i)
	}
	if err := closeLog(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, logFileName))
	if err != nil || fi.Size() > megabyte {
		t.Fatalf("current log: %v, %v; want at most 1 MiB", fi, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		old, _ := filepath.Glob(filepath.Join(dir, "twistd-*.log"))
		if len(old) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rotated logs %v, want 2 (log_count)", old)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
