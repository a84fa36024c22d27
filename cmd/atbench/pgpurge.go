package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/internal/benchkit"
	"github.com/audittrail/audittrail/postgres"
	"github.com/jackc/pgx/v5"
)

// purgeStep is the most rows one step of the purge deletes one by one (a
// copy of postgres/log.go's purgeBatch), which PurgeRecords passes to
// audittrail_purge.
const purgeStep = 10_000

// purgeMonthsBack is how many months before the current one the store
// makes partitions for (postgres.go's monthsBack): the purge benchmark
// fills the oldest, so that it is the only month before the cutoff.
const purgeMonthsBack = 14

// benchPGPurge: one month's partition, filled with cfg.purgeN records, is
// purged by the store's database function audittrail_purge, stepped as
// PurgeRecords steps it (detach the partition, note its seqs in purged and
// drop it), versus `DELETE FROM records WHERE date < cutoff` of the same
// rows in an identical schema, through the purge's gate on the append-only
// trigger. An informational third side purges the same rows by the
// function's row path (a cutoff 1 ms before the month's end, so that the
// partition is not wholly expired), which deletes them 10,000 per step and
// notes them in purged. Another, also informational, detaches and drops
// the partition and nothing else: what dropping a month costs without
// noting its seqs. The order of the sides reverses every round.
func benchPGPurge(ctx context.Context, cfg *config) ([]benchkit.Result, error) {
	p, err := cfg.postgres(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	month := time.Date(now.Year(), now.Month()-purgeMonthsBack, 1, 0, 0, 0, 0, time.UTC)
	fmt.Printf("  %s records dated in %s, in its partition records_p%s; fresh schema per side, filled by COPY then VACUUM ANALYZE before the clock starts\n",
		benchkit.Commas(int64(cfg.purgeN)), month.Format("January 2006"), month.Format("2006_01"))
	type side struct {
		name, label string
		times       []time.Duration
		use         usage
	}
	drop := &side{name: "drop", label: "drop the month (ours)"}
	del := &side{name: "delete", label: "DELETE (baseline)"}
	rows := &side{name: "rows", label: "purge's row path (info)"}
	bare := &side{name: "bare", label: "DETACH+DROP only (info)"}
	sides := []*side{drop, del, bare, rows}
	var vacuums []time.Duration
	for round := range cfg.rounds {
		order := sides
		if round%2 == 1 {
			order = reversed(sides)
		}
		for _, s := range order {
			d, detail, u, err := pgPurgeSide(ctx, cfg, p, s.name, round, month)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.label, err)
			}
			s.times, s.use = append(s.times, d), s.use.add(u)
			if s == del {
				vacuums = append(vacuums, detail.vacuum)
			}
			fmt.Printf("  round %d  %-24s %s  %s\n", round+1, s.label, benchkit.Secs(d), detail.text)
			fmt.Printf("           %s\n           %s\n", u.cpuLine(cfg.purgeN, "atbench"), u.ioLine(cfg.purgeN))
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
		}
		fmt.Printf("  round %d: drop ÷ DELETE %.3f, DETACH + DROP only ÷ DELETE %.3f, row path ÷ DELETE %.2f\n", round+1,
			drop.times[round].Seconds()/del.times[round].Seconds(), bare.times[round].Seconds()/del.times[round].Seconds(),
			rows.times[round].Seconds()/del.times[round].Seconds())
	}
	n := benchkit.Commas(int64(cfg.purgeN))
	md := benchkit.Median(del.times).Seconds()
	return []benchkit.Result{
		benchkit.Info("pg purge "+n+", drop month ÷ DELETE", benchkit.SpreadSecs(drop.times), benchkit.SpreadSecs(del.times)+" DELETE", benchkit.Median(drop.times).Seconds()/md),
		benchkit.Info("  DETACH + DROP only ÷ DELETE", benchkit.SpreadSecs(bare.times), "same baseline", benchkit.Median(bare.times).Seconds()/md),
		benchkit.Info("  purge's row path ÷ DELETE", benchkit.SpreadSecs(rows.times), "same baseline", benchkit.Median(rows.times).Seconds()/md),
		benchkit.Info("  VACUUM after the DELETE", benchkit.SpreadSecs(vacuums), "same baseline", benchkit.Median(vacuums).Seconds()/md),
	}, nil
}

type purgeDetail struct {
	text   string
	vacuum time.Duration // of the DELETE side: VACUUM of the partition afterwards
}

// pgPurgeSide fills a fresh schema's partition of month and purges it the
// way kind says (drop, delete, bare or rows), timing the purge alone.
func pgPurgeSide(ctx context.Context, cfg *config, p *pgRun, kind string, round int, month time.Time) (time.Duration, purgeDetail, usage, error) {
	var detail purgeDetail
	schema, err := p.newSchema(ctx, fmt.Sprintf("purge_%s_%d", kind, round+1))
	if err != nil {
		return 0, detail, usage{}, err
	}
	defer p.dropSchema(schema)
	url := p.schemaURL(schema, schema)
	db := postgres.NewDB(url, nil) // the store's migrations and partitions
	if err := db.Open(); err != nil {
		return 0, detail, usage{}, err
	}
	db.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, detail, usage{}, err
	}
	defer conn.Close(context.Background())
	part := "records_p" + month.Format("2006_01")
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, part).Scan(&exists); err != nil {
		return 0, detail, usage{}, err
	}
	if !exists {
		return 0, detail, usage{}, fmt.Errorf("the store made no partition %s: has its window (postgres.go, monthsBack) changed from %d months?", part, purgeMonthsBack)
	}
	end := month.AddDate(0, 1, 0)
	if err := pgPurgeFill(ctx, conn, cfg.purgeN, month, end.Add(-time.Second), uint64(round+1)); err != nil {
		return 0, detail, usage{}, fmt.Errorf("fill: %w", err)
	}
	if _, err := conn.Exec(ctx, `VACUUM (ANALYZE) `+pgx.Identifier{part}.Sanitize()); err != nil {
		return 0, detail, usage{}, err
	}

	m, err := p.startMeter(ctx, schema)
	if err != nil {
		return 0, detail, usage{}, err
	}
	begin := time.Now()
	var removed int64
	switch kind {
	case "drop", "rows":
		cutoff := end
		if kind == "rows" {
			cutoff = end.Add(-time.Millisecond)
		}
		var steps []string
		for {
			var n int64
			var more bool
			t := time.Now()
			err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				return tx.QueryRow(ctx, `SELECT removed, more FROM audittrail_purge($1, $2)`, cutoff, purgeStep).Scan(&n, &more)
			})
			if err != nil {
				break
			}
			removed += n
			if kind == "drop" {
				steps = append(steps, fmt.Sprintf("%s (%s)", benchkit.Ms(time.Since(t)), benchkit.Commas(n)))
			} else {
				steps = append(steps, "")
			}
			if !more {
				break
			}
		}
		if kind == "drop" {
			detail.text = "steps: " + strings.Join(steps, ", ") + " (detach; note seqs in purged + drop; row path)"
		} else {
			detail.text = fmt.Sprintf("%d steps", len(steps))
		}
	case "bare":
		removed = int64(cfg.purgeN) // the rows go with the table
		for _, stmt := range []string{`ALTER TABLE records DETACH PARTITION `, `DROP TABLE `} {
			if _, err = conn.Exec(ctx, stmt+pgx.Identifier{part}.Sanitize()); err != nil {
				break
			}
		}
	case "delete":
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT set_config('audittrail.purge', 'on', true)`); err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, `DELETE FROM records WHERE date < $1`, end)
			removed = tag.RowsAffected()
			return err
		})
	}
	elapsed := time.Since(begin)
	u, merr := m.stop(ctx)
	if err != nil {
		return 0, detail, usage{}, err
	}
	if merr != nil {
		return 0, detail, usage{}, merr
	}
	if removed != int64(cfg.purgeN) {
		return 0, detail, usage{}, fmt.Errorf("removed %d records, want %d", removed, cfg.purgeN)
	}
	if kind == "delete" {
		// The DELETE leaves the rows' space to VACUUM; dropping the
		// partition gives it back at once.
		t := time.Now()
		if _, err := conn.Exec(ctx, `VACUUM `+pgx.Identifier{part}.Sanitize()); err != nil {
			return 0, detail, usage{}, err
		}
		detail.vacuum = time.Since(t)
		detail.text = "then VACUUM " + benchkit.Secs(detail.vacuum)
	}
	return elapsed, detail, u, nil
}

// pgPurgeFill writes n records of one account, seqs 0 to n-1, dated
// evenly from start to end, with CopyFrom, 5,000 per statement.
func pgPurgeFill(ctx context.Context, conn *pgx.Conn, n int, start, end time.Time, seed uint64) error {
	g := benchkit.NewGen(seed)
	step := end.Sub(start) / time.Duration(n)
	begin := time.Now()
	for done := 0; done < n; {
		k := min(5000, n-done)
		rows := make([][]any, 0, k)
		for i := range k {
			date := start.Add(time.Duration(done+i) * step)
			r := g.Item(time.Time{}).Record(accountID, keyName, date)
			r.ID, r.Seq, r.ReceivedAt = audittrail.NewRecordID(), int64(done+i), audittrail.TruncateTime(date)
			row, err := recordRow(r)
			if err != nil {
				return err
			}
			rows = append(rows, row)
		}
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{"records"}, recordCopyColumns, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		done += k
	}
	fmt.Printf("  (fill: %s records in %s)\n", benchkit.Commas(int64(n)), time.Since(begin).Round(100*time.Millisecond))
	return nil
}
