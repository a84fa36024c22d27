package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/internal/benchkit"
	"github.com/audittrail/audittrail/tlog"
)

// The integrity log's benchmarks (issue 6):
//
//   - merkle: batch ingest with the Merkle log on versus off. The log is a
//     build switch (-tags nomerkle, store/log_off.go), so this binary is
//     the "on" side and a copy of atbench built with -tags nomerkle is the
//     "off" side, run as a child process; the rounds alternate. Target: on
//     ≥ 0.85 × off.
//   - verify: tlog.Verify over an account of 1,000,000 records, read as
//     `audittrail verify` reads them, versus a baseline that only scans the
//     same rows in seq order and SHA-256-hashes each. Target ≤ 2×.

// ingestOnlyTag marks the result line of the child's ingestapi run.
const ingestOnlyTag = "ingestapi-result"

// merkleIsOn reports whether this binary's store keeps the Merkle log: it
// appends one record to a scratch store and looks at the tree's size.
func merkleIsOn(ctx context.Context, cfg *config) (bool, error) {
	now := time.Now().Add(-time.Minute)
	e, err := newEnv(ctx, cfg, "merkle-probe", &now)
	if err != nil {
		return false, err
	}
	defer e.close()
	rec := benchkit.NewGen(1).Item(time.Time{}).Record(accountID, keyName, time.Now())
	if _, err := e.db.AppendRecords(ctx, accountID, []audittrail.Entry{{Records: []*audittrail.Record{rec}}}); err != nil {
		return false, err
	}
	size, _, err := e.db.TreeHead(ctx, accountID)
	return size > 0, err
}

// buildNoMerkle builds atbench with -tags nomerkle into cfg.dir.
func buildNoMerkle(ctx context.Context, cfg *config) (string, error) {
	bin := filepath.Join(cfg.dir, "atbench-nomerkle")
	return bin, benchkit.Build(ctx, bin, "./cmd/atbench", "nomerkle")
}

// benchIngestOnly is the child's side of benchMerkle (-run ingestapi): one
// round of the ingest benchmark's API side and of the store alone, printed
// on a line that benchMerkle reads.
func benchIngestOnly(ctx context.Context, cfg *config) ([]benchkit.Result, error) {
	on, err := merkleIsOn(ctx, cfg)
	if err != nil {
		return nil, err
	}
	batches := cfg.ingestN / batchSize
	api, _, err := ingestAPI(ctx, cfg, benchkit.NewGen(cfg.seed), "ingest-api", batches, 1, nil)
	if err != nil {
		return nil, err
	}
	store, err := ingestStore(ctx, cfg, benchkit.NewGen(cfg.seed), "ingest-store", batches)
	if err != nil {
		return nil, err
	}
	fmt.Printf("%s merkle=%v api=%.1f store=%.1f\n", ingestOnlyTag, on, api, store)
	return nil, nil
}

// ingestStore appends batches+1 batches of 500 records through the store's
// AppendRecords (no HTTP) into a fresh database and returns the records per
// second of the last batches.
func ingestStore(ctx context.Context, cfg *config, g *benchkit.Gen, name string, batches int) (float64, error) {
	e, err := newEnv(ctx, cfg, name, nil)
	if err != nil {
		return 0, err
	}
	defer e.close()
	now := time.Now()
	all := make([][]audittrail.Entry, batches+1)
	for i := range all {
		all[i] = make([]audittrail.Entry, batchSize)
		for j := range all[i] {
			all[i][j] = audittrail.Entry{Records: []*audittrail.Record{g.Item(now).Record(accountID, keyName, now)}}
		}
	}
	if _, err := e.db.AppendRecords(ctx, accountID, all[0]); err != nil { // warm-up
		return 0, err
	}
	begin := time.Now()
	for _, entries := range all[1:] {
		if _, err := e.db.AppendRecords(ctx, accountID, entries); err != nil {
			return 0, err
		}
	}
	return float64(batches*batchSize) / time.Since(begin).Seconds(), nil
}

// benchMerkle alternates rounds of the ingest benchmark with the log on
// (this process) and off (a child built with -tags nomerkle), each round
// starting from empty databases, and compares the medians.
func benchMerkle(ctx context.Context, cfg *config) ([]benchkit.Result, error) {
	on, err := merkleIsOn(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if !on {
		return nil, fmt.Errorf("this atbench was built with -tags nomerkle; -run merkle must run from a normal build (it builds the nomerkle side itself)")
	}
	bin, err := buildNoMerkle(ctx, cfg)
	if err != nil {
		return nil, err
	}
	batches := cfg.ingestN / batchSize
	fmt.Printf("  %d batches of %d records per side per round, 1 client through the API, then the store's AppendRecords alone;\n", batches, batchSize)
	fmt.Printf("  log on: this process; log off: %s (go build -tags nomerkle), as a child; order alternates by round\n", bin)

	var onAPI, offAPI, onStore, offStore []float64
	for round := range cfg.rounds {
		seed := uint64(round + 1)
		runOn := func() error {
			var prof *profiler
			api, _, err := ingestAPI(ctx, cfg, benchkit.NewGen(seed), fmt.Sprintf("merkle-on-api-%d", round), batches, 1, func() {
				if round == cfg.rounds-1 {
					prof = startProfile(cfg, "merkle-ingest")
				}
			})
			if prof != nil {
				prof.stop()
			}
			if err != nil {
				return err
			}
			store, err := ingestStore(ctx, cfg, benchkit.NewGen(seed), fmt.Sprintf("merkle-on-store-%d", round), batches)
			if err != nil {
				return err
			}
			onAPI, onStore = append(onAPI, api), append(onStore, store)
			return nil
		}
		runOff := func() error {
			api, store, err := runIngestChild(ctx, cfg, bin, seed)
			if err != nil {
				return err
			}
			offAPI, offStore = append(offAPI, api), append(offStore, store)
			return nil
		}
		first, second := runOff, runOn
		if round%2 == 1 {
			first, second = runOn, runOff
		}
		if err := first(); err != nil {
			return nil, err
		}
		if err := second(); err != nil {
			return nil, err
		}
		fmt.Printf("  round %d: API on %s, off %s (%.2f); store on %s, off %s (%.2f)\n", round+1,
			benchkit.Rate(onAPI[round], "rec/s"), benchkit.Rate(offAPI[round], "rec/s"), onAPI[round]/offAPI[round],
			benchkit.Rate(onStore[round], "rec/s"), benchkit.Rate(offStore[round], "rec/s"), onStore[round]/offStore[round])
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return []benchkit.Result{
		benchkit.HigherBetter("ingest, Merkle log on ÷ off", benchkit.Spread(onAPI, "rec/s"), benchkit.Spread(offAPI, "rec/s")+" off", benchkit.Median(onAPI)/benchkit.Median(offAPI), 0.85),
		benchkit.Info("  store alone, on ÷ off", benchkit.Spread(onStore, "rec/s"), benchkit.Spread(offStore, "rec/s")+" off", benchkit.Median(onStore)/benchkit.Median(offStore)),
	}, nil
}

// runIngestChild runs one round of the ingest benchmark in the nomerkle
// build and returns its API and store rates.
func runIngestChild(ctx context.Context, cfg *config, bin string, seed uint64) (api, store float64, err error) {
	cmd := exec.CommandContext(ctx, bin, "-run", "ingestapi", "-dir", cfg.dir, "-ingest-n", strconv.Itoa(cfg.ingestN), "-seed", strconv.FormatUint(seed, 10))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	found, on := false, true
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), ingestOnlyTag+" ")
		if !ok {
			continue
		}
		if _, err := fmt.Sscanf(line, "merkle=%t api=%g store=%g", &on, &api, &store); err == nil {
			found = true
		}
	}
	if err := cmd.Wait(); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", bin, err)
	}
	if !found {
		return 0, 0, fmt.Errorf("%s printed no %s line", bin, ingestOnlyTag)
	}
	if on {
		return 0, 0, fmt.Errorf("%s has the Merkle log on: the nomerkle tag did not take", bin)
	}
	return api, store, nil
}

// benchVerify fills an account with cfg.verifyN records through the
// store's AppendRecords, signing a checkpoint after each tenth, then
// alternates: the baseline (one SELECT of the rows in seq order, each row's
// columns SHA-256-hashed) and ours (tlog.Verify over the store, as
// `audittrail verify --account` runs it: LeafHashes, FindCheckpoints,
// IterateRecordsBySeq).
func benchVerify(ctx context.Context, cfg *config) ([]benchkit.Result, error) {
	now := time.Now()
	start, end := audittrail.DefaultRetention.Start(now).Add(48*time.Hour), now.Add(-time.Minute)
	enabledAt := start.Add(-time.Hour)
	e, err := newEnv(ctx, cfg, "verify", &enabledAt)
	if err != nil {
		return nil, err
	}
	defer e.close()
	signer, err := tlog.NewEphemeralSigner()
	if err != nil {
		return nil, err
	}
	lg := &tlog.Log{Store: e.db, Signer: signer, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now}

	const parts = 10
	span := end.Sub(start) / parts
	for i := range parts {
		k := cfg.verifyN / parts
		if i == parts-1 {
			k = cfg.verifyN - k*(parts-1)
		}
		if err := fill(ctx, e, k, start.Add(time.Duration(i)*span), start.Add(time.Duration(i+1)*span)); err != nil {
			return nil, fmt.Errorf("fill: %w", err)
		}
		if _, err := lg.Checkpoint(ctx, accountID, 0); err != nil {
			return nil, fmt.Errorf("checkpoint: %w", err)
		}
	}
	cps, err := e.db.FindCheckpoints(ctx, accountID)
	if err != nil {
		return nil, err
	}
	size, _, err := e.db.TreeHead(ctx, accountID)
	if err != nil {
		return nil, err
	}
	fmt.Printf("  %s records in the log, %d checkpoints\n", benchkit.Commas(int64(size)), len(cps))

	raw, err := benchkit.OpenRaw(e.path, true)
	if err != nil {
		return nil, err
	}
	defer raw.Close()

	var base, ours, scan []float64 // seconds
	for round := range cfg.rounds {
		b, n, err := verifyBaseline(ctx, raw)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		if uint64(n) != size {
			return nil, fmt.Errorf("baseline: %d rows, want %d", n, size)
		}
		base = append(base, b.Seconds())

		var prof *profiler
		if round == cfg.rounds-1 {
			prof = startProfile(cfg, "verify")
		}
		o, rep, err := verifyOurs(ctx, e.db, accountID, signer.VerifierKey())
		if prof != nil {
			prof.stop()
		}
		if err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
		if !rep.OK() || rep.TreeSize != size || rep.Checkpoints != len(cps) {
			return nil, fmt.Errorf("verify: %d findings, size %d, %d checkpoints (want 0, %d, %d)", len(rep.Findings), rep.TreeSize, rep.Checkpoints, size, len(cps))
		}
		ours = append(ours, o.Seconds())

		s, err := scanLeaves(ctx, e.db)
		if err != nil {
			return nil, err
		}
		scan = append(scan, s.Seconds())
		fmt.Printf("  round %d: baseline %.2f s, verify %.2f s (%.2f); store scan + leaf hashes %.2f s\n", round+1, b.Seconds(), o.Seconds(), o.Seconds()/b.Seconds(), s.Seconds())
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	secs := func(vs []float64) string {
		if len(vs) == 1 {
			return fmt.Sprintf("%.2f s", vs[0])
		}
		lo, hi := vs[0], vs[0]
		for _, v := range vs {
			lo, hi = min(lo, v), max(hi, v)
		}
		return fmt.Sprintf("%.2f s (%.2f–%.2f)", benchkit.Median(vs), lo, hi)
	}
	n := benchkit.Commas(int64(size))
	return []benchkit.Result{
		benchkit.LowerBetter("verify, "+n+" records", secs(ours), secs(base)+" scan+SHA-256", benchkit.Median(ours)/benchkit.Median(base), 2),
		benchkit.Info("  store scan + leaf hashes only", secs(scan), "same baseline", benchkit.Median(scan)/benchkit.Median(base)),
	}, nil
}

// verifyBaseline reads every record of the account in seq order with one
// SELECT of the store's columns, scanned into the store's column types,
// and SHA-256-hashes each row's columns: the ideal cost of reading and
// hashing the rows.
func verifyBaseline(ctx context.Context, raw *sql.DB) (time.Duration, int, error) {
	begin := time.Now()
	rows, err := raw.QueryContext(ctx, `SELECT `+benchkit.RecordColumns+` FROM records WHERE account_id = ? ORDER BY seq`, accountID)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	var (
		c    benchkit.RawRecord
		n    int
		sink byte
		num  [8]byte
	)
	h := sha256.New()
	var sum []byte
	for rows.Next() {
		if err := c.Scan(rows); err != nil {
			return 0, n, err
		}
		h.Reset()
		for _, s := range []string{c.ChangeID, c.ObjectType, c.ObjectID, c.ObjectName, c.ActionType, c.Element, c.OldValue, c.NewValue, c.Originator, c.Source} {
			io.WriteString(h, s)
		}
		binary.BigEndian.PutUint64(num[:], uint64(c.Seq))
		h.Write(num[:])
		binary.BigEndian.PutUint64(num[:], uint64(c.Date))
		h.Write(num[:])
		if c.Automatic {
			h.Write([]byte{1})
		}
		sum = h.Sum(sum[:0])
		sink ^= sum[0]
		n++
	}
	_ = sink
	return time.Since(begin), n, rows.Err()
}

// verifyOurs runs tlog.Verify over the store as `audittrail verify
// --account` does (cmd/audittrail/verify.go, fromStorage).
func verifyOurs(ctx context.Context, db audittrail.Store, account, vkey string) (time.Duration, *tlog.Report, error) {
	begin := time.Now()
	if _, err := db.FindAccount(ctx, account); err != nil {
		return 0, nil, err
	}
	leaves, purged, err := db.LeafHashes(ctx, account)
	if err != nil {
		return 0, nil, err
	}
	cps, err := db.FindCheckpoints(ctx, account)
	if err != nil {
		return 0, nil, err
	}
	c := tlog.LogCopy{
		Account: account,
		Leaves:  leaves,
		Purged:  func(seq int64) bool { return purged[seq] },
		Records: func(fn func(*audittrail.Record) error) error { return db.IterateRecordsBySeq(ctx, account, fn) },
	}
	for _, cp := range cps {
		c.Checkpoints = append(c.Checkpoints, cp.Note)
	}
	rep, err := tlog.Verify(c, vkey)
	return time.Since(begin), rep, err
}

// scanLeaves reads the records through the store's IterateRecordsBySeq and
// hashes each one's canonical bytes: verify's reading and leaf hashing
// without the stored leaves, the checkpoints and the tree.
func scanLeaves(ctx context.Context, db audittrail.Store) (time.Duration, error) {
	begin := time.Now()
	var sink byte
	err := db.IterateRecordsBySeq(ctx, accountID, func(r *audittrail.Record) error {
		sum := sha256.Sum256(tlog.LeafData(r))
		sink ^= sum[0]
		return nil
	})
	_ = sink
	return time.Since(begin), err
}
