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
	target   string // "≥0.70", "≤1.50", or "info"
	ok       string // "yes", "NO", or "-"
}

// higherBetter makes a row whose ratio ours/baseline must reach min.
func higherBetter(name, ours, baseline string, ratio, min float64) result {
	return result{name, ours, baseline, ratio, fmt.Sprintf("≥%.2f", min), yesNo(ratio >= min)}
}

// lowerBetter makes a row whose ratio ours/baseline must stay at or under max.
func lowerBetter(name, ours, baseline string, ratio, max float64) result {
	return result{name, ours, baseline, ratio, fmt.Sprintf("≤%.2f", max), yesNo(ratio <= max)}
}

// below makes a row whose ratio ours/limit must stay strictly under 1.
func below(name, ours, limit string, ratio float64) result {
	return result{name, ours, limit, ratio, "<1.00", yesNo(ratio < 1)}
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
		ratio := "-"
		if !math.IsNaN(r.ratio) {
			ratio = fmt.Sprintf("%.2f", r.ratio)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.name, r.ours, r.baseline, ratio, r.target, r.ok)
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

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// median returns the median of vs (the lower middle for an even count).
func median[T int64 | float64 | time.Duration](vs []T) T {
	s := slices.Clone(vs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// spreadSecs describes rounds of durations: "median (min–max)".
func spreadSecs(ds []time.Duration) string {
	if len(ds) == 1 {
		return secs(ds[0])
	}
	return fmt.Sprintf("%s (%.2f–%.2f)", secs(median(ds)), slices.Min(ds).Seconds(), slices.Max(ds).Seconds())
}

// spreadRate describes rounds of rates: "median (min–max)".
func spreadRate(vs []float64, unit string) string {
	if len(vs) == 1 {
		return rate(vs[0], unit)
	}
	return fmt.Sprintf("%s (%s–%s)", rate(median(vs), unit), commas(int64(slices.Min(vs))), commas(int64(slices.Max(vs))))
}
