package benchkit

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

// Result is one row of a tool's final table: our figure, its baseline,
// the ratio of the two, and the target the ratio must meet.
type Result struct {
	Name     string
	Ours     string
	Baseline string
	Ratio    float64 // NaN prints as "-"
	Target   string  // "≥0.50", "≤1.50", "<1.00", or "info"
	OK       string  // "yes", "NO", or "-"
}

// HigherBetter makes a row whose ratio ours/baseline must reach min.
func HigherBetter(name, ours, baseline string, ratio, min float64) Result {
	return Result{name, ours, baseline, ratio, fmt.Sprintf("≥%.2f", min), yesNo(ratio >= min)}
}

// LowerBetter makes a row whose ratio ours/baseline must stay at or under max.
func LowerBetter(name, ours, baseline string, ratio, max float64) Result {
	return Result{name, ours, baseline, ratio, fmt.Sprintf("≤%.2f", max), yesNo(ratio <= max)}
}

// Below makes a row whose ratio ours/limit must stay strictly under 1.
func Below(name, ours, limit string, ratio float64) Result {
	return Result{name, ours, limit, ratio, "<1.00", yesNo(ratio < 1)}
}

// Info makes a row with no target.
func Info(name, ours, baseline string, ratio float64) Result {
	return Result{name, ours, baseline, ratio, "info", "-"}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

// PrintTable prints the rows as a table on standard output.
func PrintTable(rs []Result) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 3, ' ', 0)
	fmt.Fprintln(w, "benchmark\tours\tbaseline\tratio\ttarget\tok")
	for _, r := range rs {
		ratio := "-"
		if !math.IsNaN(r.Ratio) {
			ratio = fmt.Sprintf("%.2f", r.Ratio)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Ours, r.Baseline, ratio, r.Target, r.OK)
	}
	w.Flush()
}

// Commas formats n with thousands separators.
func Commas(n int64) string {
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

// Rate formats a rate, rounded, with its unit: "12,345 rec/s".
func Rate(v float64, unit string) string { return Commas(int64(math.Round(v))) + " " + unit }

// MB formats bytes in MiB: "12.3 MB".
func MB(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

// Secs formats a duration in seconds: "1.23 s".
func Secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// Ms formats a duration in milliseconds: "1.23 ms".
func Ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// Percentile returns the nearest-rank p-th percentile of ds (0 < p ≤ 100),
// or 0 for none.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// Median returns the median of vs (the lower middle for an even count).
func Median[T int64 | float64 | time.Duration](vs []T) T {
	s := slices.Clone(vs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// Spread describes rounds of rates: "median unit (min–max)".
func Spread(vs []float64, unit string) string {
	if len(vs) == 1 {
		return Rate(vs[0], unit)
	}
	return fmt.Sprintf("%s (%s–%s)", Rate(Median(vs), unit), Commas(int64(slices.Min(vs))), Commas(int64(slices.Max(vs))))
}

// SpreadSecs describes rounds of durations: "median s (min–max)".
func SpreadSecs(ds []time.Duration) string {
	if len(ds) == 1 {
		return Secs(ds[0])
	}
	return fmt.Sprintf("%s (%.2f–%.2f)", Secs(Median(ds)), slices.Min(ds).Seconds(), slices.Max(ds).Seconds())
}
