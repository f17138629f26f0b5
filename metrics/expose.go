package metrics

import (
	"math"
	"strconv"
	"strings"
)

// The worker writes Prometheus' text exposition format (version 0.0.4)
// itself rather than through prometheus/client_golang: that library's
// package initialisation registers its default Go and process collectors
// and with them pulls in protobuf, and linking it made every idle worker,
// metrics enabled or not, 2.7 MB larger in resident memory (make bench,
// issue 10). What the format needs is small: a # HELP and a # TYPE line per
// family, then one line per sample, label values quoted and escaped. The
// tests parse what this writes with Prometheus' own parser.

// contentType is what Prometheus expects of the text format.
const contentType = "text/plain; version=0.0.4; charset=utf-8"

// exposition builds one scrape's text.
type exposition struct {
	b strings.Builder
}

// family starts a metric family: its help and type (counter, gauge,
// histogram, summary).
func (e *exposition) family(name, typ, help string) {
	e.b.WriteString("# HELP ")
	e.b.WriteString(name)
	e.b.WriteByte(' ')
	e.b.WriteString(helpEscaper.Replace(help))
	e.b.WriteString("\n# TYPE ")
	e.b.WriteString(name)
	e.b.WriteByte(' ')
	e.b.WriteString(typ)
	e.b.WriteByte('\n')
}

// sample writes one sample; labels are name, value pairs.
func (e *exposition) sample(name string, v float64, labels ...string) {
	e.b.WriteString(name)
	if len(labels) > 0 {
		e.b.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				e.b.WriteByte(',')
			}
			e.b.WriteString(labels[i])
			e.b.WriteString(`="`)
			e.b.WriteString(labelEscaper.Replace(labels[i+1]))
			e.b.WriteByte('"')
		}
		e.b.WriteByte('}')
	}
	e.b.WriteByte(' ')
	e.b.WriteString(formatFloat(v))
	e.b.WriteByte('\n')
}

// single writes a family of one unlabelled sample.
func (e *exposition) single(name, typ, help string, v float64) {
	e.family(name, typ, help)
	e.sample(name, v)
}

func (e *exposition) String() string { return e.b.String() }

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// formatFloat writes a value as Prometheus does: shortest form, and +Inf,
// -Inf and NaN spelled out.
func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// histogram counts observations into fixed buckets, as a Prometheus
// histogram: written cumulatively, with the +Inf bucket, _sum and _count.
// It is not safe for concurrent use; Metrics holds it under its lock.
type histogram struct {
	upper  []float64 // bucket upper bounds, ascending
	counts []uint64  // per bucket, not cumulative; the last is +Inf
	sum    float64
}

func newHistogram(upper []float64) *histogram {
	return &histogram{upper: upper, counts: make([]uint64, len(upper)+1)}
}

func (h *histogram) observe(v float64) {
	i := 0
	for i < len(h.upper) && v > h.upper[i] {
		i++
	}
	h.counts[i]++
	h.sum += v
}

// write writes the histogram's samples under name; labels are name, value
// pairs that every sample carries.
func (h *histogram) write(e *exposition, name string, labels ...string) {
	var cum uint64
	for i, n := range h.counts {
		cum += n
		le := math.Inf(1)
		if i < len(h.upper) {
			le = h.upper[i]
		}
		e.sample(name+"_bucket", float64(cum), append(labels[:len(labels):len(labels)], "le", formatFloat(le))...)
	}
	e.sample(name+"_sum", h.sum, labels...)
	e.sample(name+"_count", float64(cum), labels...)
}
