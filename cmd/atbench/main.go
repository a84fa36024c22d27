// Command atbench measures the service against baselines measured in the
// same run, on the same disk, and prints each figure beside its baseline and
// the ratio with its target. It is a tool, not a test: nothing fails when a
// target is missed; the table says so.
//
//	go run ./cmd/atbench                      # all three benchmarks, default sizes
//	go run ./cmd/atbench -run query -query-n 200000
//	go run ./cmd/atbench -scale 0.2           # everything smaller and shorter
//
// The benchmarks (docs/BENCHMARKS.md tells the method and the numbers):
//
//   - ingest: batches of 500 records POSTed through the HTTP API by one
//     sequential client, versus the same rows INSERTed straight into SQLite
//     (same schema, indexes and pragmas), 500 per transaction. Target ≥ 0.5.
//   - concurrent: single-record POSTs from 32 concurrent clients, versus a
//     loop that appends 512 bytes to a file and fsyncs it. Target ≥ 5.
//   - query: the first page and page 1,000 of a filtered listing of an
//     account of 1,000,000 records, through the API, versus the store's keyset
//     SELECT run directly. Target: within 1.5× of raw; page 1,000 as fast as
//     page 1.
//   - merkle (not in the default set): the ingest benchmark's API side with
//     the Merkle log on, versus a copy of atbench built with -tags nomerkle.
//     Target ≥ 0.85.
//   - verify (not in the default set): tlog.Verify over an account of
//     1,000,000 records, versus one SELECT of the rows in seq order with a
//     SHA-256 of each. Target ≤ 2×.
//   - pgingest, pgreplicas, pgpurge (not in the default set; they need a
//     PostgreSQL server: -db or $AUDITTRAIL_BENCH_POSTGRES): batch ingest
//     through `audittrail serve --db` versus pgx CopyFrom into the same
//     table (target ≥ 0.6); one replica versus two on one database, and one
//     account versus two, with the bottleneck named; dropping a month's
//     partition versus DELETE of its rows. See pg.go.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"time"

	"github.com/audittrail/audittrail/internal/benchkit"
)

type config struct {
	run        map[string]bool
	scale      float64
	rounds     int
	parent     string // where the temp dir is made
	dir        string // the temp dir of this run
	keep       bool
	cpuprofile string
	trace      string

	ingestN       int // records per round per side
	ingestClients int // the informational multi-client figure
	concClients   int
	concDur       time.Duration
	queryN        int
	queryFilter   string
	queryPage     int
	reps          int
	verifyN       int    // records of the verify benchmark
	seed          uint64 // generator seed of -run ingestapi (the merkle benchmark's child)

	pgURL       string // PostgreSQL server of the pg* benchmarks
	pg          *pgRun // connected on first use
	pgN         int    // records per side per round of pgingest
	pgReplicasN int    // records per side per round of pgreplicas
	pgClients   int    // clients of pgreplicas, in all
	purgeN      int    // records in the month that pgpurge purges
}

func main() { benchkit.Main("atbench", run) }

func run(ctx context.Context, args []string) error {
	cfg := config{}
	fs := flag.NewFlagSet("atbench", flag.ContinueOnError)
	runList := fs.String("run", "ingest,concurrent,query", "benchmarks to run, comma-separated: ingest, concurrent, query, merkle, verify, pgingest, pgreplicas, pgpurge")
	fs.Float64Var(&cfg.scale, "scale", 1, "multiplies every size and duration (0.1 for a quick look); -query-n given explicitly is not scaled")
	fs.IntVar(&cfg.rounds, "rounds", 3, "rounds of ingest and concurrent (ours and baseline alternate; the median is reported)")
	fs.StringVar(&cfg.parent, "dir", "", "parent of the temporary directory (default: os.TempDir(), which should be on the disk being measured)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the temporary directory (databases) after the run")
	fs.StringVar(&cfg.cpuprofile, "cpuprofile", "", "write CPU profiles of our side to PREFIX-<benchmark>.pprof")
	fs.StringVar(&cfg.trace, "trace", "", "write execution traces of our side to PREFIX-<benchmark>.trace (go tool trace)")
	fs.IntVar(&cfg.ingestN, "ingest-n", 50_000, "records per ingest round per side (batches of 500)")
	fs.IntVar(&cfg.ingestClients, "ingest-clients", 4, "clients of the informational concurrent-batch ingest figure")
	fs.IntVar(&cfg.concClients, "concurrent-clients", 32, "concurrent single-record clients")
	fs.DurationVar(&cfg.concDur, "concurrent-duration", 5*time.Second, "duration of each side of a concurrent round")
	fs.IntVar(&cfg.queryN, "query-n", 1_000_000, "records in the account that the query benchmark reads")
	fs.StringVar(&cfg.queryFilter, "query-filter", "object_type=users&action_type=edit", "filter of the query benchmark (API query parameters)")
	fs.IntVar(&cfg.queryPage, "query-page", 1000, "deep page of the query benchmark (clamped to the pages there are)")
	fs.IntVar(&cfg.reps, "reps", 50, "repetitions of each query measurement")
	fs.IntVar(&cfg.verifyN, "verify-n", 1_000_000, "records in the account that the verify benchmark checks")
	fs.Uint64Var(&cfg.seed, "seed", 1, "generator seed of -run ingestapi (used by -run merkle for its nomerkle child)")
	fs.StringVar(&cfg.pgURL, "db", os.Getenv(envBenchPostgres), "PostgreSQL server of the pg* benchmarks (postgres://...; default $"+envBenchPostgres+"); each run makes and drops its own schemas")
	fs.IntVar(&cfg.pgN, "pg-n", 50_000, "records per side per round of pgingest (batches of 500)")
	fs.IntVar(&cfg.pgReplicasN, "pgreplicas-n", 100_000, "records per side per round of pgreplicas (batches of 500)")
	fs.IntVar(&cfg.pgClients, "pg-clients", 4, "clients in all of pgreplicas (split evenly over the replicas) and of pgingest's multi-client side")
	fs.IntVar(&cfg.purgeN, "purge-n", 200_000, "records in the month that pgpurge purges")
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	cfg.run = map[string]bool{}
	for _, name := range strings.Split(*runList, ",") {
		name = strings.TrimSpace(name)
		switch name {
		case "ingest", "concurrent", "query", "merkle", "verify", "ingestapi", "pgingest", "pgreplicas", "pgpurge":
			cfg.run[name] = true
		case "":
		default:
			return fmt.Errorf("-run: unknown benchmark %q (ingest, concurrent, query, merkle, verify, pgingest, pgreplicas, pgpurge)", name)
		}
	}
	if cfg.scale <= 0 {
		return fmt.Errorf("-scale must be positive")
	}
	cfg.ingestN = max(batchSize, int(float64(cfg.ingestN)*cfg.scale)/batchSize*batchSize)
	cfg.concDur = max(500*time.Millisecond, time.Duration(float64(cfg.concDur)*cfg.scale))
	if !set["query-n"] {
		cfg.queryN = max(10_000, int(float64(cfg.queryN)*cfg.scale))
	}
	if !set["verify-n"] {
		cfg.verifyN = max(10_000, int(float64(cfg.verifyN)*cfg.scale))
	}
	cfg.reps = max(5, int(float64(cfg.reps)*cfg.scale))
	cfg.pgN = max(batchSize, int(float64(cfg.pgN)*cfg.scale)/batchSize*batchSize)
	cfg.pgReplicasN = max(batchSize, int(float64(cfg.pgReplicasN)*cfg.scale)/batchSize*batchSize)
	cfg.pgClients = max(2, cfg.pgClients/2*2)
	if !set["purge-n"] {
		cfg.purgeN = max(10_000, int(float64(cfg.purgeN)*cfg.scale))
	}
	cfg.rounds = max(1, cfg.rounds)

	dir, done, err := benchkit.StartRun("atbench", cfg.parent, cfg.keep)
	if err != nil {
		return err
	}
	defer done()
	cfg.dir = dir
	defer func() {
		if cfg.pg != nil {
			cfg.pg.close() // drops the run's schemas
		}
	}()

	fmt.Printf("sizes    scale %.2g, rounds %d, ingest %d records/round/side, concurrent %d clients %s/side, query %d records, %d reps, verify %d records\n",
		cfg.scale, cfg.rounds, cfg.ingestN, cfg.concClients, cfg.concDur, cfg.queryN, cfg.reps, cfg.verifyN)

	var results []benchkit.Result
	for _, b := range []struct {
		name string
		fn   func(context.Context, *config) ([]benchkit.Result, error)
	}{{"ingest", benchIngest}, {"concurrent", benchConcurrent}, {"query", benchQuery},
		{"merkle", benchMerkle}, {"verify", benchVerify}, {"ingestapi", benchIngestOnly},
		{"pgingest", benchPGIngest}, {"pgreplicas", benchPGReplicas}, {"pgpurge", benchPGPurge}} {
		if !cfg.run[b.name] {
			continue
		}
		fmt.Printf("\n== %s\n", b.name)
		rs, err := b.fn(ctx, &cfg)
		if err != nil {
			return fmt.Errorf("%s: %w", b.name, err)
		}
		results = append(results, rs...)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	fmt.Println()
	benchkit.PrintTable(results)
	if cfg.keep {
		fmt.Printf("\ndatabases kept in %s\n", dir)
	}
	return nil
}

// profiler writes a CPU profile and an execution trace of one phase when
// -cpuprofile or -trace is set.
type profiler struct {
	cpu, trace *os.File
}

func createOut(prefix, name, ext string) *os.File {
	path := prefix + "-" + name + ext
	os.MkdirAll(filepath.Dir(path), 0o755)
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "atbench:", err)
		return nil
	}
	return f
}

func startProfile(cfg *config, name string) *profiler {
	p := &profiler{}
	if cfg.cpuprofile != "" {
		if p.cpu = createOut(cfg.cpuprofile, name, ".pprof"); p.cpu != nil {
			if err := pprof.StartCPUProfile(p.cpu); err != nil {
				fmt.Fprintln(os.Stderr, "atbench: cpuprofile:", err)
				p.cpu.Close()
				p.cpu = nil
			} else {
				fmt.Printf("  (CPU profile of this phase: %s)\n", p.cpu.Name())
			}
		}
	}
	if cfg.trace != "" {
		if p.trace = createOut(cfg.trace, name, ".trace"); p.trace != nil {
			if err := trace.Start(p.trace); err != nil {
				fmt.Fprintln(os.Stderr, "atbench: trace:", err)
				p.trace.Close()
				p.trace = nil
			} else {
				fmt.Printf("  (execution trace of this phase: %s)\n", p.trace.Name())
			}
		}
	}
	return p
}

func (p *profiler) stop() {
	if p.cpu != nil {
		pprof.StopCPUProfile()
		p.cpu.Close()
		p.cpu = nil
	}
	if p.trace != nil {
		trace.Stop()
		p.trace.Close()
		p.trace = nil
	}
}
