// Command exportbench measures the export routes of the real server binary
// against baselines measured in the same run, and prints each figure beside
// its baseline and the ratio with its target. It is a tool, not a test:
// nothing fails when a target is missed; the table says so.
//
//	go run ./cmd/exportbench                    # 100,000 records, 3 rounds
//	go run ./cmd/exportbench -n 1000000         # CSV over 1,000,000 records (xlsx: the newest 100,000)
//	go run ./cmd/exportbench -cpuprofile /tmp/eb  # + CPU profiles of the export code run in-process
//
// It builds cmd/audittrail, fills a data directory through the store
// (the store's AppendRecords, 5,000 records per call), starts `audittrail
// serve` on it and then, rounds alternating with their baselines:
//
//   - xlsx: GET .../records/export.xlsx, timed until the body has been read,
//     while the server's VmRSS is sampled from /proc every 20 ms. Baseline:
//     excelize's StreamWriter writing the same rows (the same cell values),
//     prepared in memory before the clock starts, to io.Discard. Targets:
//     ≤ 1.5× the baseline's time, server peak RSS < 150 MB.
//   - csv: GET .../records/export.csv, in records/s. Baseline: the raw SELECT
//     of the same rows and columns on the same SQLite file, written with
//     encoding/csv to io.Discard. Target: ≥ 70 % of the baseline's rate.
//
// docs/BENCHMARKS.md tells the method and the numbers.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/audittrail/audittrail/internal/benchkit"
)

const (
	accountID = "bench"
	timezone  = "Europe/Paris" // the account's zone: dates are shown in it
	fillBatch = 5_000          // records per AppendRecords call
	maxXLSX   = 100_000        // export.MaxXLSXRecords
	rssLimit  = 150 << 20      // the target of the server's peak RSS
)

type config struct {
	n          int
	rounds     int
	parent     string
	dir        string
	keep       bool
	bin        string
	sample     time.Duration
	cpuprofile string
}

func main() { benchkit.Main("exportbench", run) }

func run(ctx context.Context, args []string) error {
	var cfg config
	fs := flag.NewFlagSet("exportbench", flag.ContinueOnError)
	fs.IntVar(&cfg.n, "n", maxXLSX, "records in the account; the CSV export reads them all, the xlsx export the newest 100,000")
	fs.IntVar(&cfg.rounds, "rounds", 3, "rounds of each benchmark (ours and baseline alternate; the median is reported)")
	fs.StringVar(&cfg.parent, "dir", "", "parent of the temporary directory (default: os.TempDir(), which should be on the disk being measured)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the temporary directory (binary, data, server log) after the run")
	fs.StringVar(&cfg.bin, "bin", "", "audittrail binary to run (default: go build ./cmd/audittrail into the temp dir)")
	fs.DurationVar(&cfg.sample, "sample", 20*time.Millisecond, "interval of the server's RSS samples")
	fs.StringVar(&cfg.cpuprofile, "cpuprofile", "", "after the rounds, run each export and its baseline in-process (export.Write over the store to io.Discard) 5 times under the CPU profiler: PREFIX-{xlsx,csv}{,-baseline}.pprof")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if cfg.n < 1 {
		return fmt.Errorf("-n must be positive")
	}
	cfg.rounds = max(1, cfg.rounds)

	dir, done, err := benchkit.StartRun("exportbench", cfg.parent, cfg.keep)
	if err != nil {
		return err
	}
	defer done()
	cfg.dir = dir
	fmt.Printf("sizes    %d records, rounds %d, RSS sampled every %s\n", cfg.n, cfg.rounds, cfg.sample)

	if cfg.bin == "" {
		cfg.bin = filepath.Join(dir, "audittrail")
		begin := time.Now()
		if err := benchkit.Build(ctx, cfg.bin, "./cmd/audittrail"); err != nil {
			return err
		}
		fmt.Printf("built    %s in %s\n", cfg.bin, time.Since(begin).Round(time.Millisecond))
	}

	data := filepath.Join(dir, "data")
	fmt.Printf("\n== data\n")
	d, err := prepare(ctx, &cfg, data)
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}

	srv, err := benchkit.StartServer(ctx, cfg.bin, filepath.Join(dir, "server.log"), nil, "--data", data)
	if err != nil {
		return err
	}
	defer srv.Stop()
	fmt.Printf("server   %s (pid %d), %s\n", srv.URL, srv.PID(), benchkit.RSSString(srv.PID()))

	var results []benchkit.Result
	fmt.Printf("\n== xlsx\n")
	rs, err := benchXLSX(ctx, &cfg, srv, d)
	if err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	results = append(results, rs...)
	fmt.Printf("\n== csv\n")
	rs, err = benchCSV(ctx, &cfg, srv, d)
	if err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	results = append(results, rs...)
	if err := srv.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "exportbench: stopping the server:", err)
	}

	if cfg.cpuprofile != "" {
		fmt.Printf("\n== in-process profiles\n")
		if err := profileInProcess(ctx, &cfg, d); err != nil {
			return fmt.Errorf("profile: %w", err)
		}
	}

	fmt.Println()
	benchkit.PrintTable(results)
	if cfg.keep {
		fmt.Printf("\nkept in %s\n", dir)
	}
	return nil
}

// withProfile runs fn under the CPU profiler, writing PREFIX-name.pprof.
func withProfile(prefix, name string, fn func() error) error {
	path := prefix + "-" + name + ".pprof"
	os.MkdirAll(filepath.Dir(path), 0o755)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	err = fn()
	pprof.StopCPUProfile()
	if err == nil {
		fmt.Printf("  CPU profile: %s (go tool pprof -top %s)\n", path, path)
	}
	return err
}
