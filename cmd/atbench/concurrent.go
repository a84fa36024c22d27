package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/audittrail/audittrail/internal/benchkit"
)

// benchConcurrent: single-record POSTs from cfg.concClients concurrent
// clients for cfg.concDur, versus a loop that appends 512 bytes to a file
// and fsyncs it after each write, for as long. The sides alternate, the
// fsync loop first; each round's server starts from an empty database.
func benchConcurrent(ctx context.Context, cfg *config) ([]benchkit.Result, error) {
	fmt.Printf("  %d clients, each POSTing one record at a time, %s per side per round\n", cfg.concClients, cfg.concDur)
	var base, ours, same []float64
	for round := range cfg.rounds {
		f, err := fsyncLoop(cfg, round, 512, cfg.concDur)
		if err != nil {
			return nil, fmt.Errorf("fsync loop: %w", err)
		}
		base = append(base, f)
		var prof *profiler
		if round == cfg.rounds-1 {
			prof = startProfile(cfg, "concurrent")
		}
		o, perCommit, bytesPerCommit, err := concurrentAPI(ctx, cfg, round)
		if prof != nil {
			prof.stop()
		}
		if err != nil {
			return nil, fmt.Errorf("api: %w", err)
		}
		ours = append(ours, o)
		fmt.Printf("  round %d: write+fsync loop %s, API %s (%.1f); %.1f records and %s KB written to disk per commit\n",
			round+1, benchkit.Rate(f, "fsync/s"), benchkit.Rate(o, "rec/s"), o/f, perCommit, benchkit.Commas(bytesPerCommit>>10))
		if bytesPerCommit > 512 {
			// For the record: the same loop writing what a commit of the
			// store wrote, to tell the cost of the bytes from that of the sync.
			sf, err := fsyncLoop(cfg, round, int(bytesPerCommit), max(500*time.Millisecond, cfg.concDur/2))
			if err != nil {
				return nil, fmt.Errorf("fsync loop: %w", err)
			}
			same = append(same, sf)
			fmt.Printf("           write+fsync loop of %s KB per write (as one commit): %s, i.e. %s records/s at %.1f records per commit\n",
				benchkit.Commas(bytesPerCommit>>10), benchkit.Rate(sf, "fsync/s"), benchkit.Commas(int64(sf*perCommit)), perCommit)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	rs := []benchkit.Result{
		benchkit.HigherBetter(fmt.Sprintf("concurrent, %d clients", cfg.concClients), benchkit.Spread(ours, "rec/s"), benchkit.Spread(base, "fsync/s"), benchkit.Median(ours)/benchkit.Median(base), 5),
	}
	if len(same) > 0 {
		rs = append(rs, benchkit.Info("  fsync of a commit's bytes", benchkit.Spread(same, "fsync/s"), benchkit.Spread(base, "fsync/s")+" (512 B)", benchkit.Median(same)/benchkit.Median(base)))
	}
	return rs, nil
}

// fsyncLoop returns the writes per second of a loop of size-byte appends,
// each followed by an fsync, in a file of the temp dir, for d.
func fsyncLoop(cfg *config, round, size int, d time.Duration) (float64, error) {
	path := filepath.Join(cfg.dir, fmt.Sprintf("fsync-%d", round))
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer os.Remove(path)
	defer f.Close()
	buf := make([]byte, size)
	for i := range buf {
		buf[i] = byte(i)
	}
	n := 0
	begin := time.Now()
	for time.Since(begin) < d {
		if _, err := f.Write(buf); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
		n++
	}
	return float64(n) / time.Since(begin).Seconds(), nil
}

// concurrentAPI returns the records per second that the clients got
// stored, the mean records per commit of the store's group commit, and the
// mean bytes written to disk per commit (WAL frames and checkpoints).
func concurrentAPI(ctx context.Context, cfg *config, round int) (float64, float64, int64, error) {
	e, err := newEnv(ctx, cfg, fmt.Sprintf("concurrent-%d", round), nil)
	if err != nil {
		return 0, 0, 0, err
	}
	defer e.close()
	g := benchkit.NewGen(uint64(100 + round))
	now := time.Now()
	bodies := make([][]byte, 4096)
	for i := range bodies {
		bodies[i] = benchkit.Body([]benchkit.Item{g.Item(now)})
	}
	// Warm-up: one request per client opens its connection.
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	for c := range cfg.concClients {
		wg.Go(func() {
			if err := e.post(ctx, "/records", bodies[c%len(bodies)]); err != nil {
				failed.Store(&err)
			}
		})
	}
	wg.Wait()
	if p := failed.Load(); p != nil {
		return 0, 0, 0, *p
	}

	before, diskBefore := e.backend.Stats(), benchkit.DiskWrites()
	var done atomic.Int64
	var next atomic.Int64
	begin := time.Now()
	deadline := begin.Add(cfg.concDur)
	for range cfg.concClients {
		wg.Go(func() {
			for time.Now().Before(deadline) && failed.Load() == nil {
				i := next.Add(1)
				if err := e.post(ctx, "/records", bodies[int(i)%len(bodies)]); err != nil {
					failed.Store(&err)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(begin)
	if p := failed.Load(); p != nil {
		return 0, 0, 0, *p
	}
	after, diskAfter := e.backend.Stats(), benchkit.DiskWrites()
	commits := max(1, after.Commits-before.Commits)
	perCommit := float64(after.Writes-before.Writes) / float64(commits)
	return float64(done.Load()) / elapsed.Seconds(), perCommit, (diskAfter - diskBefore) / commits, nil
}
