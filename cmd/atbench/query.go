package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/internal/benchkit"
	"github.com/audittrail/audittrail/service"
	"github.com/audittrail/audittrail/sqlite"
)

const (
	fillBatch = 5_000 // records per AppendRecords call while filling
	pageLimit = audittrail.DefaultLimit
)

// benchQuery fills one account with cfg.queryN records, then measures the
// first page and a deep page of a filtered listing through the API versus
// the store's keyset SELECT run directly on a connection of its own.
func benchQuery(ctx context.Context, cfg *config) ([]benchkit.Result, error) {
	now := time.Now()
	// Dates spread over the retention window of 13 months (less two days,
	// so that none falls out of the window while the benchmark runs).
	start, end := audittrail.DefaultRetention.Start(now).Add(48*time.Hour), now.Add(-time.Minute)
	enabledAt := start.Add(-time.Hour)
	e, err := newEnv(ctx, cfg, "query", &enabledAt)
	if err != nil {
		return nil, err
	}
	defer e.close()

	if err := fill(ctx, e, cfg.queryN, start, end); err != nil {
		return nil, fmt.Errorf("fill: %w", err)
	}

	raw, err := benchkit.OpenRaw(e.path, true)
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	var version string
	raw.QueryRow(`SELECT sqlite_version()`).Scan(&version)

	params, err := url.ParseQuery(cfg.queryFilter)
	if err != nil {
		return nil, fmt.Errorf("-query-filter: %w", err)
	}
	params.Del("cursor")
	params.Del("limit")
	// The filter as the service reads it, from clamped to the retention
	// window, at the time of each query.
	filter := func(after *audittrail.Cursor) (audittrail.RecordFilter, error) {
		f, err := service.ParseFilter(params, accountID, false)
		service.Clamp(&f, audittrail.DefaultRetention, time.Now())
		f.After = after
		f.Limit = pageLimit + 1 // what the handler asks: one more tells whether a next page exists
		return f, err
	}
	f, err := filter(nil)
	if err != nil {
		return nil, fmt.Errorf("-query-filter: %w", err)
	}

	where, args := sqlite.RecordWhere(f)
	var matches int
	if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM records WHERE `+where, args...).Scan(&matches); err != nil {
		return nil, err
	}
	pages := (matches + pageLimit - 1) / pageLimit
	// The deep page must be full and have a next page, as page 1 has.
	deep := min(cfg.queryPage, (matches-1)/pageLimit)
	fmt.Printf("  filter %s: %s of %s records match, %s pages of %d; deep page: %d\n",
		cfg.queryFilter, benchkit.Commas(int64(matches)), benchkit.Commas(int64(cfg.queryN)), benchkit.Commas(int64(pages)), pageLimit, deep)
	if deep < 2 {
		return nil, fmt.Errorf("the filter matches %d records: too few pages to measure a deep page", matches)
	}
	if deep < cfg.queryPage {
		fmt.Printf("  NOTE: only %d pages, so the deep page is page %d, not %d (use a larger -query-n)\n", pages, deep, cfg.queryPage)
	}

	// The cursor of the deep page: the (date, seq) of the last record of
	// the page before it, from a raw OFFSET query; then checked by following
	// next_cursor through the API from page 1.
	var date, seq int64
	if err := raw.QueryRowContext(ctx, `SELECT date, seq FROM records WHERE `+where+` ORDER BY date DESC, seq DESC LIMIT 1 OFFSET ?`,
		append(args, (deep-1)*pageLimit-1)...).Scan(&date, &seq); err != nil {
		return nil, fmt.Errorf("cursor of page %d: %w", deep, err)
	}
	cursor := &audittrail.Cursor{Date: time.UnixMilli(date).UTC(), Seq: seq}
	walked, walkTime, err := walk(ctx, e, params, deep-1)
	if err != nil {
		return nil, fmt.Errorf("following next_cursor: %w", err)
	}
	if walked != cursor.String() {
		return nil, fmt.Errorf("next_cursor after %d pages is %s, but the %dth record of the raw order gives %s", deep-1, walked, (deep-1)*pageLimit, cursor.String())
	}
	fmt.Printf("  followed next_cursor through %d pages via the API in %s (%.2f ms/page); it matches the raw OFFSET cursor\n",
		deep-1, walkTime.Round(time.Millisecond), float64(walkTime.Microseconds())/1000/float64(deep-1))

	for _, c := range []*audittrail.Cursor{nil, cursor} {
		f, _ := filter(c)
		if plan, err := explain(ctx, raw, f); err == nil {
			fmt.Printf("  plan, page %s: %s\n", map[bool]string{true: "1", false: fmt.Sprint(deep)}[c == nil], plan)
		}
	}

	apiPath := func(c *audittrail.Cursor) string {
		q := url.Values{}
		for k, v := range params {
			q[k] = v
		}
		if c != nil {
			q.Set("cursor", c.String())
		}
		return "/records?" + q.Encode()
	}
	var buf bytes.Buffer
	ours := func(c *audittrail.Cursor) (time.Duration, error) {
		buf.Reset()
		begin := time.Now()
		err := e.get(ctx, apiPath(c), &buf)
		return time.Since(begin), err
	}
	rawQ := func(c *audittrail.Cursor) (time.Duration, error) {
		begin := time.Now()
		f, err := filter(c)
		if err != nil {
			return 0, err
		}
		n, err := rawPage(ctx, raw, f)
		if err == nil && n != pageLimit+1 {
			err = fmt.Errorf("raw page: %d rows, want %d", n, pageLimit+1)
		}
		return time.Since(begin), err
	}

	// Check once that the API's page is full and is the raw page.
	if _, err := ours(nil); err != nil {
		return nil, err
	}
	var page struct {
		Records    []json.RawMessage `json:"records"`
		NextCursor *string           `json:"next_cursor"`
	}
	if err := json.Unmarshal(buf.Bytes(), &page); err != nil || len(page.Records) != pageLimit || page.NextCursor == nil {
		return nil, fmt.Errorf("page 1 through the API: %d records, next_cursor %v, %v", len(page.Records), page.NextCursor, err)
	}
	fmt.Printf("  page 1 through the API: %d records, %s bytes of JSON\n", len(page.Records), benchkit.Commas(int64(buf.Len())))

	// Warm up, then measure, interleaved so that noise hits every series alike.
	series := []struct {
		name string
		fn   func(*audittrail.Cursor) (time.Duration, error)
		c    *audittrail.Cursor
		d    []time.Duration
	}{
		{"API page 1", ours, nil, nil},
		{"raw page 1", rawQ, nil, nil},
		{fmt.Sprintf("API page %d", deep), ours, cursor, nil},
		{fmt.Sprintf("raw page %d", deep), rawQ, cursor, nil},
	}
	for i := range 5 + cfg.reps {
		for j := range series {
			s := &series[j]
			d, err := s.fn(s.c)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
			if i >= 5 {
				s.d = append(s.d, d)
			}
		}
	}
	fmt.Printf("  %d repetitions each, after 5 warm-ups (SQLite %s):\n", cfg.reps, version)
	for _, s := range series {
		fmt.Printf("    %-16s p50 %s  p90 %s\n", s.name, benchkit.Ms(benchkit.Percentile(s.d, 50)), benchkit.Ms(benchkit.Percentile(s.d, 90)))
	}

	if cfg.cpuprofile != "" || cfg.trace != "" {
		prof := startProfile(cfg, "query")
		for begin := time.Now(); time.Since(begin) < max(time.Second, time.Duration(float64(5*time.Second)*cfg.scale)); {
			if _, err := ours(nil); err != nil {
				prof.stop()
				return nil, err
			}
			if _, err := ours(cursor); err != nil {
				prof.stop()
				return nil, err
			}
		}
		prof.stop()
	}

	p := func(i int, q float64) time.Duration { return benchkit.Percentile(series[i].d, q) }
	ratio := func(a, b time.Duration) float64 { return float64(a) / float64(b) }
	dp := fmt.Sprint(deep)
	return []benchkit.Result{
		benchkit.LowerBetter("query page 1, p50", benchkit.Ms(p(0, 50)), benchkit.Ms(p(1, 50))+" raw", ratio(p(0, 50), p(1, 50)), 1.5),
		benchkit.Info("query page 1, p90", benchkit.Ms(p(0, 90)), benchkit.Ms(p(1, 90))+" raw", ratio(p(0, 90), p(1, 90))),
		benchkit.LowerBetter("query page "+dp+", p50", benchkit.Ms(p(2, 50)), benchkit.Ms(p(3, 50))+" raw", ratio(p(2, 50), p(3, 50)), 1.5),
		benchkit.Info("query page "+dp+", p90", benchkit.Ms(p(2, 90)), benchkit.Ms(p(3, 90))+" raw", ratio(p(2, 90), p(3, 90))),
		benchkit.LowerBetter("query page "+dp+" / page 1, p50", benchkit.Ms(p(2, 50)), benchkit.Ms(p(0, 50))+" page 1", ratio(p(2, 50), p(0, 50)), 1.5),
		benchkit.Info("query page "+dp+" / page 1, p90", benchkit.Ms(p(2, 90)), benchkit.Ms(p(0, 90))+" page 1", ratio(p(2, 90), p(0, 90))),
	}, nil
}

// fill appends n records dated from start to end, in date order (as records
// arrive), through the store's AppendRecords in batches of fillBatch.
func fill(ctx context.Context, e *env, n int, start, end time.Time) error {
	if err := benchkit.Fill(ctx, e.db, benchkit.NewGen(7), accountID, keyName, n, fillBatch, start, end); err != nil {
		return err
	}
	fmt.Printf("  filled through the store's AppendRecords, %d records per call, dates %s to %s; database %s MB\n",
		fillBatch, start.Format(time.DateOnly), end.Format(time.DateOnly), benchkit.Commas(benchkit.DBSize(e.path)>>20))
	return nil
}

// walk follows next_cursor through the API from page 1 for pages pages
// and returns the last cursor and the time it took.
func walk(ctx context.Context, e *env, params url.Values, pages int) (string, time.Duration, error) {
	var buf bytes.Buffer
	cursor := ""
	begin := time.Now()
	for i := range pages {
		q := url.Values{}
		for k, v := range params {
			q[k] = v
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		buf.Reset()
		if err := e.get(ctx, "/records?"+q.Encode(), &buf); err != nil {
			return "", 0, err
		}
		var page struct {
			Records    []json.RawMessage `json:"records"`
			NextCursor *string           `json:"next_cursor"`
		}
		if err := json.Unmarshal(buf.Bytes(), &page); err != nil {
			return "", 0, err
		}
		if page.NextCursor == nil || len(page.Records) != pageLimit {
			return "", 0, fmt.Errorf("page %d: %d records, next_cursor %v", i+1, len(page.Records), page.NextCursor)
		}
		cursor = *page.NextCursor
	}
	return cursor, time.Since(begin), nil
}

// rawPage runs the store's SELECT of the page that f selects and scans its
// rows into the column types the store scans (without building records or
// decoding the originator JSON).
func rawPage(ctx context.Context, db *sql.DB, f audittrail.RecordFilter) (int, error) {
	query, args := recordQuery(f)
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var c benchkit.RawRecord
	n := 0
	for rows.Next() {
		if err := c.Scan(rows); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// explain returns SQLite's plan of the page query of f, on one line.
func explain(ctx context.Context, db *sql.DB, f audittrail.RecordFilter) (string, error) {
	query, args := recordQuery(f)
	rows, err := db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return "", err
		}
		steps = append(steps, detail)
	}
	return strings.Join(steps, "; "), rows.Err()
}
