package main

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/buildslave/buildslave/config"
)

// logFileName is twistd's log file name, kept for the administrators and
// tools that look for it.
const logFileName = "twistd.log"

// megabyte is lumberjack's unit for MaxSize.
const megabyte = 1 << 20

// openLog opens the worker's log: BASEDIR/twistd.log, rotated by size
// unless the configuration says not to, plus console when it is not nil.
// close flushes and closes the file.
func openLog(cfg *config.Config, console io.Writer) (logger *slog.Logger, close func() error, err error) {
	path := filepath.Join(cfg.Basedir, logFileName)
	var file io.WriteCloser
	if cfg.NoLogRotate {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("opening the log: %w", err)
		}
		file = f
	} else {
		file = &lumberjack.Logger{
			Filename:   path,
			MaxSize:    rotateMegabytes(cfg.LogSize),
			MaxBackups: cfg.LogCount,
		}
	}
	// lumberjack opens the file on the first write; an empty one makes
	// an unwritable log an error now, not lines silently lost later.
	if _, err := file.Write(nil); err != nil {
		file.Close()
		return nil, nil, fmt.Errorf("opening the log: %w", err)
	}
	handler := slog.Handler(slog.NewTextHandler(file, nil))
	if console != nil {
		handler = slog.NewMultiHandler(handler, slog.NewTextHandler(console, nil))
	}
	return slog.New(handler), file.Close, nil
}

// rotateMegabytes converts log_size, in bytes, to lumberjack's whole
// megabytes: rounded up, so that the log is never rotated earlier than
// asked, and at least 1, since lumberjack reads 0 as 100.
func rotateMegabytes(bytes int64) int {
	mb := bytes / megabyte
	if bytes%megabyte != 0 {
		mb++
	}
	return int(min(max(mb, 1), math.MaxInt32))
}
