package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/internal/benchkit"
)

// benchIngest: batches of 500 records through the API by one sequential
// client, versus raw INSERTs of the same rows into a database with the same
// schema and pragmas, 500 rows per transaction. Each round and each side
// starts from an empty database; the sides alternate, baseline first.
func benchIngest(ctx context.Context, cfg *config) ([]benchkit.Result, error) {
	batches := cfg.ingestN / batchSize
	fmt.Printf("  %d batches of %d records per side per round, +1 warm-up batch not counted; fresh database per side\n", batches, batchSize)
	var base, ours, multi []float64
	for round := range cfg.rounds {
		last := round == cfg.rounds-1
		g := benchkit.NewGen(uint64(round + 1))

		b, err := ingestBaseline(ctx, cfg, g, round, batches)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		base = append(base, b)

		var prof *profiler
		o, sz, err := ingestAPI(ctx, cfg, g, fmt.Sprintf("ingest-api-%d", round), batches, 1, func() {
			if last {
				prof = startProfile(cfg, "ingest")
			}
		})
		if prof != nil {
			prof.stop()
		}
		if err != nil {
			return nil, fmt.Errorf("api: %w", err)
		}
		ours = append(ours, o)

		m, _, err := ingestAPI(ctx, cfg, g, fmt.Sprintf("ingest-api%d-%d", cfg.ingestClients, round), batches, cfg.ingestClients, nil)
		if err != nil {
			return nil, fmt.Errorf("api, %d clients: %w", cfg.ingestClients, err)
		}
		multi = append(multi, m)
		fmt.Printf("  round %d: raw INSERT %s, API 1 client %s (%.2f), API %d clients %s (%.2f); request body %.0f bytes/record\n",
			round+1, benchkit.Rate(b, "rec/s"), benchkit.Rate(o, "rec/s"), o/b, cfg.ingestClients, benchkit.Rate(m, "rec/s"), m/b, sz)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	mb, mo, mm := benchkit.Median(base), benchkit.Median(ours), benchkit.Median(multi)
	return []benchkit.Result{
		benchkit.HigherBetter("ingest, 1 client", benchkit.Spread(ours, "rec/s"), benchkit.Spread(base, "rec/s"), mo/mb, 0.5),
		benchkit.Info(fmt.Sprintf("ingest, %d clients", cfg.ingestClients), benchkit.Spread(multi, "rec/s"), "same baseline", mm/mb),
	}, nil
}

// ingestBaseline inserts batches+1 batches of rows straight into SQLite and
// returns the records per second of the last batches. The rows (ids, JSON
// originator, search text) are made before the clock starts: the baseline
// is what SQLite alone costs.
func ingestBaseline(ctx context.Context, cfg *config, g *benchkit.Gen, round, batches int) (float64, error) {
	path := filepath.Join(cfg.dir, fmt.Sprintf("ingest-raw-%d.db", round))
	if err := createSchema(ctx, path); err != nil {
		return 0, err
	}
	if !cfg.keep {
		defer removeDB(path)
	}
	db, err := benchkit.OpenRaw(path, false)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	stmt, err := conn.PrepareContext(ctx, insertRecord)
	if err != nil {
		return 0, err
	}
	defer stmt.Close()

	now := time.Now()
	rows := make([][]any, (batches+1)*batchSize)
	for i := range rows {
		r := g.Item(now).Record(accountID, keyName, now)
		originator, err := json.Marshal(r.Originator)
		if err != nil {
			return 0, err
		}
		rows[i] = []any{r.AccountID, int64(i), audittrail.NewRecordID(), r.ChangeID, r.ObjectType, r.ObjectID, r.ObjectName, r.ActionType, r.Element,
			r.OldValue, r.NewValue, r.Date.UnixMilli(), r.Originator.ID, r.Originator.Name, string(originator), r.Automatic, now.UnixMilli(), r.Source,
			audittrail.SearchText(r)}
	}

	insert := func(batch [][]any) error {
		if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
			return err
		}
		for _, row := range batch {
			if _, err := stmt.ExecContext(ctx, row...); err != nil {
				conn.ExecContext(ctx, `ROLLBACK`)
				return err
			}
		}
		_, err := conn.ExecContext(ctx, `COMMIT`)
		return err
	}
	if err := insert(rows[:batchSize]); err != nil { // warm-up
		return 0, err
	}
	begin := time.Now()
	for i := 1; i <= batches; i++ {
		if err := insert(rows[i*batchSize : (i+1)*batchSize]); err != nil {
			return 0, err
		}
	}
	return float64(batches*batchSize) / time.Since(begin).Seconds(), nil
}

// ingestAPI POSTs batches+1 batches of records to a fresh server from
// clients concurrent clients and returns the records per second of the
// last batches and the mean request bytes per record. The bodies are made
// before the clock starts. started, if not nil, runs when the clock starts.
func ingestAPI(ctx context.Context, cfg *config, g *benchkit.Gen, name string, batches, clients int, started func()) (float64, float64, error) {
	e, err := newEnv(ctx, cfg, name, nil)
	if err != nil {
		return 0, 0, err
	}
	defer e.close()

	now := time.Now() // after the trail was enabled
	bodies := make([][]byte, batches+1)
	size := 0
	for i := range bodies {
		items := make([]benchkit.Item, batchSize)
		for j := range items {
			items[j] = g.Item(now)
		}
		bodies[i] = benchkit.Body(items)
		size += len(bodies[i])
	}
	if err := e.post(ctx, "/records", bodies[0]); err != nil { // warm-up
		return 0, 0, err
	}
	if started != nil {
		started()
	}
	var next atomic.Int64
	next.Store(1)
	var wg sync.WaitGroup
	errs := make([]error, clients)
	begin := time.Now()
	for c := range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i > batches {
					return
				}
				if err := e.post(ctx, "/records", bodies[i]); err != nil {
					errs[c] = err
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(begin)
	for _, err := range errs {
		if err != nil {
			return 0, 0, err
		}
	}
	return float64(batches*batchSize) / elapsed.Seconds(), float64(size) / float64(len(bodies)*batchSize), nil
}
