package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/audittrail/audittrail/export"
	"github.com/audittrail/audittrail/internal/benchkit"
	"github.com/xuri/excelize/v2"
)

// benchXLSX times the server's xlsx export of d.xlsxN records, end to end
// through HTTP, while sampling the server's RSS, against excelize's
// StreamWriter writing the same rows from memory; the sides alternate.
func benchXLSX(ctx context.Context, cfg *config, srv *benchkit.Server, d *dataset) ([]benchkit.Result, error) {
	path := "/api/v1/accounts/" + accountID + "/records/export.xlsx" + d.xlsxQuery()

	// Once, untimed: read the server's file back, and warm both sides up.
	var buf bytes.Buffer
	size, err := srv.Get(ctx, path, d.token, &buf)
	if err != nil {
		return nil, err
	}
	nrows, err := countXLSXRows(&buf)
	if err != nil {
		return nil, fmt.Errorf("reading the server's file back: %w", err)
	}
	if nrows != d.xlsxN+1 {
		return nil, fmt.Errorf("the server's file has %d rows, want %d (header + %d records)", nrows, d.xlsxN+1, d.xlsxN)
	}
	buf = bytes.Buffer{}
	baseSize, err := baselineXLSX(d)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	fmt.Printf("  warm-up: the server's file is %s bytes, %s rows on sheet %q (read back with excelize); the baseline's %s bytes\n",
		benchkit.Commas(size), benchkit.Commas(int64(nrows)), export.SheetName, benchkit.Commas(baseSize))
	fmt.Printf("  server after the warm-up: %s\n", benchkit.RSSString(srv.PID()))

	var ours, base []time.Duration
	var peaks []int64
	var hwm int64
	for i := range cfg.rounds {
		s := benchkit.SampleRSS(srv.PID(), cfg.sample)
		begin := time.Now()
		n, err := srv.Get(ctx, path, d.token, nil)
		elapsed := time.Since(begin)
		peak, samples, serr := s.Stop()
		if err != nil {
			return nil, err
		}
		if serr != nil {
			return nil, fmt.Errorf("sampling the server's RSS: %w", serr)
		}
		_, h, err := benchkit.MemStatus(srv.PID())
		if err != nil {
			return nil, err
		}
		ours, peaks, hwm = append(ours, elapsed), append(peaks, peak), h

		runtime.GC() // the last side's garbage is not the baseline's to collect
		begin = time.Now()
		bn, err := baselineXLSX(d)
		belapsed := time.Since(begin)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		base = append(base, belapsed)
		fmt.Printf("  round %d: server %s (%s bytes; peak VmRSS %s over %d samples, VmHWM %s)   baseline %s (%s bytes)   ratio %.2f\n",
			i+1, benchkit.Secs(elapsed), benchkit.Commas(n), benchkit.MB(peak), samples, benchkit.MB(h), benchkit.Secs(belapsed), benchkit.Commas(bn), elapsed.Seconds()/belapsed.Seconds())
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	peak := slices.Max(peaks)
	name := fmt.Sprintf("xlsx export, %s records", benchkit.Commas(int64(d.xlsxN)))
	return []benchkit.Result{
		benchkit.LowerBetter(name, benchkit.SpreadSecs(ours), benchkit.SpreadSecs(base)+" StreamWriter", float64(benchkit.Median(ours))/float64(benchkit.Median(base)), 1.5),
		benchkit.Below("  server peak VmRSS (sampled)", benchkit.MB(peak), benchkit.MB(rssLimit)+" limit", float64(peak)/rssLimit),
		benchkit.Below("  server VmHWM at the end", benchkit.MB(hwm), benchkit.MB(rssLimit)+" limit", float64(hwm)/rssLimit),
		benchkit.Info("  records/s", benchkit.Spread(rates(d.xlsxN, ours), "rec/s"), benchkit.Spread(rates(d.xlsxN, base), "rec/s"), math.NaN()),
	}, nil
}

// baselineXLSX writes d.rows with excelize's StreamWriter to io.Discard:
// what excelize costs on its own, for the same cells.
func baselineXLSX(d *dataset) (int64, error) {
	f := excelize.NewFile()
	defer f.Close()
	style, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr(export.XLSXDateFormat)})
	if err != nil {
		return 0, err
	}
	if style != d.dateStyle {
		return 0, fmt.Errorf("date style %d, but the rows were made with %d", style, d.dateStyle)
	}
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return 0, err
	}
	for i, row := range d.rows {
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		if err != nil {
			return 0, err
		}
		if err := sw.SetRow(cell, row); err != nil {
			return 0, err
		}
	}
	if err := sw.Flush(); err != nil {
		return 0, err
	}
	return f.WriteTo(io.Discard)
}

// countXLSXRows opens a workbook and counts the rows of the export's sheet.
func countXLSXRows(r io.Reader) (int, error) {
	f, err := excelize.OpenReader(r)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rows, err := f.Rows(export.SheetName)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Error()
}

func rates(n int, ds []time.Duration) []float64 {
	vs := make([]float64, len(ds))
	for i, d := range ds {
		vs[i] = float64(n) / d.Seconds()
	}
	return vs
}
