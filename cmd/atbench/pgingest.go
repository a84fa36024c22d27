package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/audittrail/audittrail"
	athttp "github.com/audittrail/audittrail/http"
	"github.com/audittrail/audittrail/internal/benchkit"
	"github.com/audittrail/audittrail/postgres"
	"github.com/audittrail/audittrail/store"
	"github.com/audittrail/audittrail/tlog"
	"github.com/jackc/pgx/v5"
)

// pgSide is one side of a PostgreSQL ingest benchmark: it writes batches+1
// batches of 500 records of the generator seeded with seed into a fresh
// schema, the first as a warm-up, and returns the records per second of the
// others and what the meter saw meanwhile.
type pgSide func(ctx context.Context, cfg *config, p *pgRun, round int, seed uint64, batches int) (float64, usage, error)

// benchPGIngest: batches of 500 records POSTed by one sequential client to
// `audittrail serve --db`, versus the same rows written by pgx CopyFrom
// straight into records. Two sides in between tell where the difference
// goes: the statements the store runs, with the same values computed
// beforehand (COPY of the records and the tree's nodes, the account's row
// locked and updated), and the store's AppendRecords called in process. A
// fifth side, for information, has cfg.pgClients clients POST to the
// server, spread over two accounts (pgReplicasSide with one replica).
// Every side of every round writes into a fresh schema migrated by the
// store; the order of the sides reverses from one round to the next.
func benchPGIngest(ctx context.Context, cfg *config) ([]benchkit.Result, error) {
	p, err := cfg.postgres(ctx)
	if err != nil {
		return nil, err
	}
	batches := cfg.pgN / batchSize
	records := batches * batchSize
	fmt.Printf("  %d batches of %d records per side per round, +1 warm-up batch not counted; fresh schema per side; order reverses every round\n", batches, batchSize)
	type side struct {
		name, label, self string
		run               pgSide
		rates             []float64
		use               usage
	}
	copySide := &side{name: "copy", label: "COPY records (baseline)", self: "atbench", run: pgIngestRaw(false)}
	sqlSide := &side{name: "sql", label: "store's SQL, raw", self: "atbench", run: pgIngestRaw(true)}
	storeSide := &side{name: "store", label: "AppendRecords", self: "atbench (store)", run: pgIngestStore}
	apiSide := &side{name: "api", label: "API (ours)", self: "client", run: pgIngestAPI}
	multiSide := &side{name: "multi", label: fmt.Sprintf("API, %d clients, 2 accounts", cfg.pgClients), self: "clients",
		run: func(ctx context.Context, cfg *config, p *pgRun, round int, seed uint64, batches int) (float64, usage, error) {
			return pgReplicasSide(ctx, cfg, p, 1, 2, cfg.pgClients, round, batches)
		}}
	sides := []*side{copySide, sqlSide, storeSide, apiSide, multiSide}
	for round := range cfg.rounds {
		order := sides
		if round%2 == 1 {
			order = reversed(sides)
		}
		for _, s := range order {
			rate, u, err := s.run(ctx, cfg, p, round, uint64(round+1), batches)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.label, err)
			}
			s.rates, s.use = append(s.rates, rate), s.use.add(u)
			fmt.Printf("  round %d  %-27s %s\n", round+1, s.label, benchkit.Rate(rate, "rec/s"))
			fmt.Printf("           %s\n           %s\n           %s\n", u.cpuLine(records, s.self), u.ioLine(records), u.waitLine())
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
		}
		fmt.Printf("  round %d: API ÷ COPY %.2f, AppendRecords ÷ COPY %.2f, store's SQL ÷ COPY %.2f, API with %d clients ÷ COPY %.2f\n", round+1,
			apiSide.rates[round]/copySide.rates[round], storeSide.rates[round]/copySide.rates[round], sqlSide.rates[round]/copySide.rates[round],
			cfg.pgClients, multiSide.rates[round]/copySide.rates[round])
	}

	fmt.Printf("\n  where the time goes, over all rounds (CPU per record by process; wall = elapsed per record):\n")
	for _, s := range sides {
		n := records * cfg.rounds
		fmt.Printf("  %-27s %s\n  %-27s %s\n  %-27s %s\n", s.label, s.use.cpuLine(n, s.self), "", s.use.ioLine(n), "", s.use.waitLine())
	}

	if cfg.cpuprofile != "" || cfg.trace != "" {
		rate, err := pgIngestProfiled(ctx, cfg, p, batches)
		if err != nil {
			return nil, fmt.Errorf("profiled pass: %w", err)
		}
		fmt.Printf("  profiled pass (API in process, httptest over postgres.DB): %s\n", benchkit.Rate(rate, "rec/s"))
	}

	mc := benchkit.Median(copySide.rates)
	return []benchkit.Result{
		benchkit.HigherBetter("pg ingest, 1 client", benchkit.Spread(apiSide.rates, "rec/s"), benchkit.Spread(copySide.rates, "rec/s")+" COPY", benchkit.Median(apiSide.rates)/mc, 0.60),
		benchkit.Info("  AppendRecords, in process", benchkit.Spread(storeSide.rates, "rec/s"), "same baseline", benchkit.Median(storeSide.rates)/mc),
		benchkit.Info("  store's SQL, raw", benchkit.Spread(sqlSide.rates, "rec/s"), "same baseline", benchkit.Median(sqlSide.rates)/mc),
		benchkit.Info(fmt.Sprintf("  API, %d clients, 2 accounts", cfg.pgClients), benchkit.Spread(multiSide.rates, "rec/s"), "same baseline", benchkit.Median(multiSide.rates)/mc),
	}, nil
}

// pgIngestRaw returns a baseline side that writes the rows with pgx on one
// connection, each batch in its own transaction, every value computed
// before the clock starts (ids, seqs, originator JSON, search text): with
// withLog false, one CopyFrom of the 500 rows into records; with withLog
// true, the statements AppendRecords runs (postgres/record.go,
// appendRecords): the account's row locked (SELECT ... FOR NO KEY UPDATE),
// the records copied, the Merkle tree's new nodes copied into tree_nodes,
// and next_seq and the tree written back to the account.
func pgIngestRaw(withLog bool) pgSide {
	return func(ctx context.Context, cfg *config, p *pgRun, round int, seed uint64, batches int) (float64, usage, error) {
		tag := "copy"
		if withLog {
			tag = "sql"
		}
		schema, err := p.newSchema(ctx, fmt.Sprintf("ingest_%s_%d", tag, round+1))
		if err != nil {
			return 0, usage{}, err
		}
		defer p.dropSchema(schema)
		url := p.schemaURL(schema, schema)
		if _, err := pgSetup(ctx, url, accountID); err != nil {
			return 0, usage{}, err
		}
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return 0, usage{}, err
		}
		defer conn.Close(context.Background())

		// The account's seq and tree after the setup, which appended the
		// service's own records.
		var next, size int64
		var packed []byte
		if err := conn.QueryRow(ctx, `SELECT next_seq, tree_size, tree_hashes FROM accounts WHERE id = $1`, accountID).Scan(&next, &size, &packed); err != nil {
			return 0, usage{}, err
		}
		var hashes [][]byte
		for i := 0; i+32 <= len(packed); i += 32 {
			hashes = append(hashes, packed[i:i+32])
		}
		tree, err := tlog.NewTree(uint64(size), hashes)
		if err != nil {
			return 0, usage{}, err
		}

		type batch struct {
			records, nodes [][]any
			next, size     int64
			hashes         []byte
		}
		g := benchkit.NewGen(seed)
		now := time.Now()
		all := make([]batch, batches+1)
		for i := range all {
			b := &all[i]
			for range batchSize {
				r := g.Item(now).Record(accountID, keyName, now)
				r.ID, r.Seq, r.ReceivedAt = audittrail.NewRecordID(), next, audittrail.TruncateTime(now)
				next++
				row, err := recordRow(r)
				if err != nil {
					return 0, usage{}, err
				}
				b.records = append(b.records, row)
				if withLog {
					if err := tree.Append(tlog.LeafHash(r), func(id tlog.NodeID, hash []byte) {
						b.nodes = append(b.nodes, []any{accountID, int16(id.Level), int64(id.Index), hash})
					}); err != nil {
						return 0, usage{}, err
					}
				}
			}
			b.next, b.size = next, int64(tree.Size())
			for _, h := range tree.Hashes() {
				b.hashes = append(b.hashes, h...)
			}
		}

		write := func(b *batch) error {
			return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				if withLog {
					var n, s int64
					var h []byte
					if err := tx.QueryRow(ctx, `SELECT next_seq, tree_size, tree_hashes FROM accounts WHERE id = $1 FOR NO KEY UPDATE`, accountID).Scan(&n, &s, &h); err != nil {
						return err
					}
				}
				if _, err := tx.CopyFrom(ctx, pgx.Identifier{"records"}, recordCopyColumns, pgx.CopyFromRows(b.records)); err != nil {
					return err
				}
				if !withLog {
					return nil
				}
				if _, err := tx.CopyFrom(ctx, pgx.Identifier{"tree_nodes"}, []string{"account_id", "level", "idx", "hash"}, pgx.CopyFromRows(b.nodes)); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `UPDATE accounts SET next_seq = $1, tree_size = $2, tree_hashes = $3 WHERE id = $4`, b.next, b.size, b.hashes, accountID)
				return err
			})
		}
		if err := write(&all[0]); err != nil { // warm-up
			return 0, usage{}, err
		}
		m, err := p.startMeter(ctx, schema)
		if err != nil {
			return 0, usage{}, err
		}
		begin := time.Now()
		for i := 1; i <= batches; i++ {
			if err := write(&all[i]); err != nil {
				m.stop(ctx)
				return 0, usage{}, err
			}
		}
		elapsed := time.Since(begin)
		u, err := m.stop(ctx)
		return float64(batches*batchSize) / elapsed.Seconds(), u, err
	}
}

// pgIngestStore appends the batches through the store's AppendRecords, in
// this process, without HTTP.
func pgIngestStore(ctx context.Context, cfg *config, p *pgRun, round int, seed uint64, batches int) (float64, usage, error) {
	schema, err := p.newSchema(ctx, fmt.Sprintf("ingest_store_%d", round+1))
	if err != nil {
		return 0, usage{}, err
	}
	defer p.dropSchema(schema)
	url := p.schemaURL(schema, schema)
	if _, err := pgSetup(ctx, url, accountID); err != nil {
		return 0, usage{}, err
	}
	b := postgres.NewDB(url, nil)
	if err := b.Open(); err != nil {
		return 0, usage{}, err
	}
	db := store.New(b)
	defer db.Close()
	g := benchkit.NewGen(seed)
	now := time.Now()
	all := make([][]audittrail.Entry, batches+1)
	for i := range all {
		all[i] = make([]audittrail.Entry, batchSize)
		for j := range all[i] {
			all[i][j] = audittrail.Entry{Records: []*audittrail.Record{g.Item(now).Record(accountID, keyName, now)}}
		}
	}
	if _, err := db.AppendRecords(ctx, accountID, all[0]); err != nil { // warm-up
		return 0, usage{}, err
	}
	m, err := p.startMeter(ctx, schema)
	if err != nil {
		return 0, usage{}, err
	}
	begin := time.Now()
	for _, entries := range all[1:] {
		if _, err := db.AppendRecords(ctx, accountID, entries); err != nil {
			m.stop(ctx)
			return 0, usage{}, err
		}
	}
	elapsed := time.Since(begin)
	u, err := m.stop(ctx)
	return float64(batches*batchSize) / elapsed.Seconds(), u, err
}

// pgIngestAPI starts `audittrail serve --db` on a fresh schema and POSTs
// the batches from one sequential client. The bodies are encoded before
// the clock starts.
func pgIngestAPI(ctx context.Context, cfg *config, p *pgRun, round int, seed uint64, batches int) (float64, usage, error) {
	schema, err := p.newSchema(ctx, fmt.Sprintf("ingest_api_%d", round+1))
	if err != nil {
		return 0, usage{}, err
	}
	defer p.dropSchema(schema)
	url := p.schemaURL(schema, schema)
	accts, err := pgSetup(ctx, url, accountID)
	if err != nil {
		return 0, usage{}, err
	}
	srv, err := p.startReplica(ctx, cfg, url, fmt.Sprintf("pgingest-%d", round+1))
	if err != nil {
		return 0, usage{}, err
	}
	defer srv.Stop()
	bodies := pgBodies(seed, batches+1)
	if err := postRecords(ctx, srv, accts[0], bodies[0]); err != nil { // warm-up
		return 0, usage{}, err
	}
	m, err := p.startMeter(ctx, schema, srv.PID())
	if err != nil {
		return 0, usage{}, err
	}
	begin := time.Now()
	for _, body := range bodies[1:] {
		if err := postRecords(ctx, srv, accts[0], body); err != nil {
			m.stop(ctx)
			return 0, usage{}, err
		}
	}
	elapsed := time.Since(begin)
	u, err := m.stop(ctx)
	return float64(batches*batchSize) / elapsed.Seconds(), u, err
}

// pgBodies returns n request bodies of 500 records of the generator seeded
// with seed, dated now: the same records as the raw sides write.
func pgBodies(seed uint64, n int) [][]byte {
	g := benchkit.NewGen(seed)
	now := time.Now()
	bodies := make([][]byte, n)
	for i := range bodies {
		items := make([]benchkit.Item, batchSize)
		for j := range items {
			items[j] = g.Item(now)
		}
		bodies[i] = benchkit.Body(items)
	}
	return bodies
}

// pgIngestProfiled runs the API side once more, in this process, under
// -cpuprofile and -trace: athttp.Server over a postgres.DB behind
// httptest, as the SQLite ingest benchmark runs it (no checkpoint loop, no
// rate limits, the request log discarded). The real binary cannot be
// profiled from here; this is the same code on the same schema.
func pgIngestProfiled(ctx context.Context, cfg *config, p *pgRun, batches int) (float64, error) {
	schema, err := p.newSchema(ctx, "ingest_profiled")
	if err != nil {
		return 0, err
	}
	defer p.dropSchema(schema)
	url := p.schemaURL(schema, schema)
	accts, err := pgSetup(ctx, url, accountID)
	if err != nil {
		return 0, err
	}
	b := postgres.NewDB(url, nil)
	if err := b.Open(); err != nil {
		return 0, err
	}
	db := store.New(b)
	defer db.Close()
	srv, err := benchkit.NewAPI(db, athttp.Config{}) // no rate limit
	if err != nil {
		return 0, err
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	client := &benchkit.Server{URL: ts.URL, Client: &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{DisableCompression: true}}}
	defer client.Client.CloseIdleConnections()
	bodies := pgBodies(99, batches+1)
	if err := postRecords(ctx, client, accts[0], bodies[0]); err != nil {
		return 0, err
	}
	prof := startProfile(cfg, "pgingest")
	begin := time.Now()
	for _, body := range bodies[1:] {
		if err := postRecords(ctx, client, accts[0], body); err != nil {
			prof.stop()
			return 0, err
		}
	}
	elapsed := time.Since(begin)
	prof.stop()
	return float64(batches*batchSize) / elapsed.Seconds(), nil
}
