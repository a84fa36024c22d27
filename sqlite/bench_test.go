package sqlite_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/audittrail/audittrail/storetest"
)

// BenchmarkAppendRecords_Concurrent32 measures single-record appends by 32
// concurrent writers, which group commit lets share their syncs.
func BenchmarkAppendRecords_Concurrent32(b *testing.B) {
	db := MustOpenDB(b, clock())
	id := mustAccount(b, db)
	b.SetParallelism(32) // 32 goroutines per GOMAXPROCS: at least 32 writers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.AppendRecords(ctx, id, storetest.Entries(storetest.NewRecord(db.Now()))); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkFsyncLoop is the baseline: one write and one fsync of a file per
// record, as a store without group commit would do.
func BenchmarkFsyncLoop(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "fsync"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 512)
	for b.Loop() {
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDB_GroupCommitThroughput checks that 32 concurrent single-record
// writers append at least 5 times as many records per second as a loop that
// fsyncs a file per write. It measures the disk, so it runs only when
// AUDITTRAIL_THROUGHPUT is set.
func TestDB_GroupCommitThroughput(t *testing.T) {
	if os.Getenv("AUDITTRAIL_THROUGHPUT") == "" {
		t.Skip("set AUDITTRAIL_THROUGHPUT=1 to measure")
	}
	const d = 2 * time.Second

	f, err := os.Create(filepath.Join(t.TempDir(), "fsync"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 512)
	fsyncs := 0
	for begin := time.Now(); time.Since(begin) < d; fsyncs++ {
		if _, err := f.Write(buf); err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}

	db := MustOpenDB(t, clock())
	id := mustAccount(t, db)
	var mu sync.Mutex
	appends := 0
	var wg sync.WaitGroup
	begin := time.Now()
	for range 32 {
		wg.Go(func() {
			n := 0
			for time.Since(begin) < d {
				if _, err := db.AppendRecords(ctx, id, storetest.Entries(storetest.NewRecord(db.Now()))); err != nil {
					t.Error(err)
					return
				}
				n++
			}
			mu.Lock()
			appends += n
			mu.Unlock()
		})
	}
	wg.Wait()
	ratio := float64(appends) / float64(fsyncs)
	st := db.Backend.Stats()
	t.Logf("fsync loop: %d writes; 32 writers: %d appends in %d commits (%.1f per commit); ratio %.1f",
		fsyncs, appends, st.Commits, float64(st.Writes)/float64(st.Commits), ratio)
	if ratio < 5 {
		t.Fatalf("throughput ratio: got %.1f, want at least 5", ratio)
	}
}
