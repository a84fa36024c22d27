package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/internal/benchkit"
)

// benchCSV measures the server's CSV export of all d.n records, end to end
// through HTTP, in records/s, against the raw SELECT of the same rows and
// columns written with encoding/csv to io.Discard; the sides alternate.
func benchCSV(ctx context.Context, cfg *config, srv *benchkit.Server, d *dataset) ([]benchkit.Result, error) {
	path := "/api/v1/accounts/" + accountID + "/records/export.csv"
	raw, err := benchkit.OpenRaw(d.dbPath, true)
	if err != nil {
		return nil, err
	}
	defer raw.Close()

	// Once, untimed: read the server's CSV back, and warm both sides up.
	lines, size, err := readCSVExport(ctx, srv, path, d.token)
	if err != nil {
		return nil, fmt.Errorf("reading the server's CSV back: %w", err)
	}
	if lines != d.n+1 {
		return nil, fmt.Errorf("the server's CSV has %d rows, want %d (header + %d records)", lines, d.n+1, d.n)
	}
	rn, rsize, err := baselineCSV(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	if rn != d.n {
		return nil, fmt.Errorf("baseline: %d rows, want %d", rn, d.n)
	}
	fmt.Printf("  warm-up: the server's CSV is %s bytes, %s rows (read back with encoding/csv); the baseline's %s bytes\n",
		benchkit.Commas(size), benchkit.Commas(int64(lines)), benchkit.Commas(rsize))

	var ours, base []float64
	var peaks []int64
	for i := range cfg.rounds {
		s := benchkit.SampleRSS(srv.PID(), cfg.sample)
		begin := time.Now()
		n, err := srv.Get(ctx, path, d.token, nil)
		elapsed := time.Since(begin)
		peak, _, serr := s.Stop()
		if err != nil {
			return nil, err
		}
		if serr != nil {
			return nil, fmt.Errorf("sampling the server's RSS: %w", serr)
		}
		ours, peaks = append(ours, float64(d.n)/elapsed.Seconds()), append(peaks, peak)

		runtime.GC()
		begin = time.Now()
		_, bn, err := baselineCSV(ctx, raw)
		belapsed := time.Since(begin)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		base = append(base, float64(d.n)/belapsed.Seconds())
		fmt.Printf("  round %d: server %s, %s (%s bytes; peak VmRSS %s)   raw SELECT + encoding/csv %s, %s (%s bytes)   ratio %.2f\n",
			i+1, benchkit.Secs(elapsed), benchkit.Rate(ours[i], "rec/s"), benchkit.Commas(n), benchkit.MB(peak), benchkit.Secs(belapsed), benchkit.Rate(base[i], "rec/s"), benchkit.Commas(bn), ours[i]/base[i])
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	_, hwm, err := benchkit.MemStatus(srv.PID())
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("csv export, %s records", benchkit.Commas(int64(d.n)))
	return []benchkit.Result{
		benchkit.HigherBetter(name, benchkit.Spread(ours, "rec/s"), benchkit.Spread(base, "rec/s")+" raw", benchkit.Median(ours)/benchkit.Median(base), 0.70),
		benchkit.Info("  server peak VmRSS (sampled)", benchkit.MB(slices.Max(peaks)), "VmHWM "+benchkit.MB(hwm)+" at the end", math.NaN()),
	}, nil
}

// baselineCSV runs the raw SELECT of the export's rows (the store's
// columns, the export's filter and order, one query) and writes the
// columns the export shows, as stored, with encoding/csv to io.Discard.
func baselineCSV(ctx context.Context, raw *sql.DB) (n int, size int64, err error) {
	from := audittrail.DefaultRetention.Start(time.Now()) // what the server's filter clamps from to
	rows, err := raw.QueryContext(ctx, `SELECT `+benchkit.RecordColumns+` FROM records WHERE account_id = ? AND date >= ? ORDER BY date DESC, seq DESC`,
		accountID, from.UnixMilli())
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	cw := &countWriter{w: io.Discard}
	w := csv.NewWriter(cw)
	if err := w.Write([]string{"Object Type", "Object Name", "Action Type", "Element", "Old Value", "New Value", "Date", "Originator"}); err != nil {
		return 0, 0, err
	}
	var c benchkit.RawRecord
	rec := make([]string, 8)
	for rows.Next() {
		if err := c.Scan(rows); err != nil {
			return n, 0, err
		}
		rec[0], rec[1], rec[2], rec[3], rec[4], rec[5], rec[6], rec[7] =
			c.ObjectType, c.ObjectName, c.ActionType, c.Element, c.OldValue, c.NewValue, strconv.FormatInt(c.Date, 10), c.Originator
		if err := w.Write(rec); err != nil {
			return n, 0, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, 0, err
	}
	w.Flush()
	return n, cw.n, w.Error()
}

// readCSVExport reads the server's CSV with encoding/csv as it streams in,
// and returns its rows (header included) and bytes.
func readCSVExport(ctx context.Context, srv *benchkit.Server, path, token string) (rows int, size int64, err error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		var err error
		size, err = srv.Get(ctx, path, token, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	br := bufio.NewReader(pr)
	bom, err := br.Peek(3)
	if err != nil || string(bom) != "\ufeff" {
		pr.CloseWithError(fmt.Errorf("no BOM"))
		<-done
		return 0, 0, fmt.Errorf("the CSV does not start with a UTF-8 BOM")
	}
	br.Discard(3)
	r := csv.NewReader(br)
	r.FieldsPerRecord = 8
	r.ReuseRecord = true
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			pr.CloseWithError(err)
			<-done
			return rows, 0, err
		}
		if rows == 0 && strings.Join(rec, ",") != "Object Type,Object Name,Action Type,Element,Old Value,New Value,Date,Originator" {
			pr.CloseWithError(fmt.Errorf("header"))
			<-done
			return 0, 0, fmt.Errorf("unexpected header %q", rec)
		}
		rows++
	}
	if err := <-done; err != nil {
		return rows, 0, err
	}
	return rows, size, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
