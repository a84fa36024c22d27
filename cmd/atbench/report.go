package main

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// result is one row of the final table.
type result struct {
	name     string
	ours     string
	baseline string
	ratio    float64
	target   string // "≥0.50", "≤1.50", or "info"
	ok       string // "yes", "no", or "-"
}

// higherBetter makes a row whose ratio ours/baseline must reach min.
func higherBetter(name, ours, baseline string, ratio, min float64) result {
	return result{name, ours, baseline, ratio, fmt.Sprintf("≥%.2f", min), yesNo(ratio >= min)}
}

// lowerBetter makes a row whose ratio ours/baseline must stay under max.
func lowerBetter(name, ours, baseline string, ratio, max float64) result {
	return result{name, ours, baseline, ratio, fmt.Sprintf("≤%.2f", max), yesNo(ratio <= max)}
}

func info(name, ours, baseline string, ratio float64) result {
	return result{name, ours, baseline, ratio, "info", "-"}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

func printTable(rs []result) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 3, ' ', 0)
	fmt.Fprintln(w, "benchmark\tours\tbaseline\tratio\ttarget\tok")
	for _, r := range rs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%.2f\t%s\t%s\n", r.name, r.ours, r.baseline, r.ratio, r.target, r.ok)
	}
	w.Flush()
}

// commas formats n with thousands separators.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func rate(v float64, unit string) string { return commas(int64(math.Round(v))) + " " + unit }

func msStr(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// percentile returns the nearest-rank p-th percentile (0 < p ≤ 100).
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// median returns the median of vs (the lower middle for an even count).
func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// spread describes the rounds: "median (min–max)".
func spread(vs []float64, unit string) string {
	if len(vs) == 1 {
		return rate(vs[0], unit)
	}
	return fmt.Sprintf("%s (%s–%s)", rate(median(vs), unit), commas(int64(slices.Min(vs))), commas(int64(slices.Max(vs))))
}
