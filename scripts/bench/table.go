package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// row is one build's figures for one worker.
type row struct {
	scenario, worker string
	bytes            int64 // moved by the build, for MiB/s
	wall, cpu        time.Duration
	peakRSS          int64
	peakSinceStart   bool // the peak could not be reset before the build
	// on the wire during the build: bytes to and from the master, and the
	// worker's update calls (-1: not counted)
	up, down, updates int64
}

// printTable prints the rows, scenario by scenario, each followed by the
// ratios of worker b's figures to worker a's.
func printTable(out io.Writer, rows []row, a, b string) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "build\tworker\twall s\tMiB/s\tworker CPU s\tpeak RSS MiB\tMiB to master\tMiB from master\tupdate calls\t")
	sinceStart := false
	for i, r := range rows {
		mark := ""
		if r.peakSinceStart {
			mark, sinceStart = "*", true
		}
		calls := "-"
		if r.updates >= 0 {
			calls = fmt.Sprint(r.updates)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%s\t%.3f\t%.1f%s\t%.2f\t%.2f\t%s\t\n", r.scenario, r.worker, r.wall.Seconds(), rate(r), r.cpu.Seconds(), mib(r.peakRSS), mark,
			mib(r.up), mib(r.down), calls)
		if i > 0 && rows[i-1].scenario == r.scenario && rows[i-1].worker == a && r.worker == b {
			p := rows[i-1]
			fmt.Fprintf(tw, "\t%s / %s\t%s\t\t%s\t%s\t\t\t\t\n", b, a,
				ratio(r.wall.Seconds(), p.wall.Seconds()), ratio(r.cpu.Seconds(), p.cpu.Seconds()), ratio(mib(r.peakRSS), mib(p.peakRSS)))
		}
	}
	tw.Flush()
	if sinceStart {
		fmt.Fprintln(out, "* peak since the worker started: this kernel cannot reset it")
	}
}

func rate(r row) string {
	if r.bytes == 0 || r.wall <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", mib(r.bytes)/r.wall.Seconds())
}

// printIdle prints each worker's resident memory while idle: once
// connected before any build, and after all of them.
func printIdle(out io.Writer, workers []*worker, start, end []int64) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "idle RSS MiB\tworker\tconnected, before any build\tafter every build\t")
	for i, w := range workers {
		fmt.Fprintf(tw, "\t%s\t%s\t%s\t\n", w.title(), mibOrDash(start[i]), mibOrDash(end[i]))
	}
	tw.Flush()
}

func mibOrDash(n int64) string {
	if n < 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", mib(n))
}

// summarize reduces one worker's runs of one build to a row: the median
// wall and CPU time (robust against a busy moment of a shared machine) and
// the highest peak RSS.
func summarize(runs []row) row {
	r := runs[0]
	walls := make([]time.Duration, len(runs))
	cpus := make([]time.Duration, len(runs))
	for i, x := range runs {
		walls[i], cpus[i] = x.wall, x.cpu
		// The wire figures are those of the first run; every run moves
		// the same.
		r.peakRSS = max(r.peakRSS, x.peakRSS)
		r.peakSinceStart = r.peakSinceStart || x.peakSinceStart
	}
	r.wall, r.cpu = median(walls), median(cpus)
	return r
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	if n := len(d); n%2 == 0 {
		return (d[n/2-1] + d[n/2]) / 2
	}
	return d[len(d)/2]
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func ratio(x, y float64) string {
	if y == 0 {
		return "-"
	}
	if x/y >= 10 {
		return fmt.Sprintf("%.0fx", x/y)
	}
	return fmt.Sprintf("%.2fx", x/y)
}
