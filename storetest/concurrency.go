package storetest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
)

func testConcurrency(t *testing.T, open OpenFunc) {
	t.Run("Seq", func(t *testing.T) {
		// Concurrent appends to two accounts: each account's seqs are 0 to
		// N-1, each once, and each call's records take consecutive seqs.
		const writers, calls = 16, 12
		s, clk := MustOpen(t, open)
		accounts := []string{MustCreateAccount(t, s, clk, true).Account.ID, MustCreateAccount(t, s, clk, true).Account.ID}

		var mu sync.Mutex
		stored := map[string][]*audittrail.Record{}
		var wg sync.WaitGroup
		errs := make(chan error, writers*calls)
		for w := range writers {
			wg.Go(func() {
				for c := range calls {
					id := accounts[(w+c)%2]
					n := 1 + (w+c)%3
					rs, err := s.AppendRecords(ctx, id, Entries(Records(n, start)...))
					if err != nil {
						errs <- err
						return
					}
					for i := range rs {
						if rs[i].Seq != rs[0].Seq+int64(i) {
							errs <- fmt.Errorf("seqs of one call: got %v, want consecutive seqs", seqs(rs))
							return
						}
					}
					mu.Lock()
					stored[id] = append(stored[id], rs...)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for _, id := range accounts {
			checkSeqs(t, stored[id])
			checkSeqs(t, MustFindAll(t, s, id))
		}
	})

	t.Run("FailuresDoNotSpoilOthers", func(t *testing.T) {
		// Appends that fail, among appends that succeed at the same time,
		// store nothing and take no seq.
		const writers, calls = 16, 8
		s, clk := MustOpen(t, open)
		id := MustCreateAccount(t, s, clk, true).Account.ID
		MustAppend(t, s, id, audittrail.Entry{IdempotencyKey: "taken", Fingerprint: "fp", Records: Records(1, start)})

		var good atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, writers*calls)
		for w := range writers {
			wg.Go(func() {
				for c := range calls {
					var err error
					switch (w + c) % 3 {
					case 0: // conflicts with the stored key
						_, err = s.AppendRecords(ctx, id, []audittrail.Entry{
							{Records: Records(2, start)},
							{IdempotencyKey: "taken", Fingerprint: "other", Records: Records(1, start)},
						})
						if audittrail.ErrorCode(err) != audittrail.EIDEMPOTENCYCONFLICT {
							errs <- fmt.Errorf("conflicting append: got %v, want %v", err, audittrail.EIDEMPOTENCYCONFLICT)
						}
					case 1: // dated before the audit trail was enabled
						_, err = s.AppendRecords(ctx, id, Entries(NewRecord(start), NewRecord(start.Add(-time.Hour))))
						if audittrail.ErrorCode(err) != audittrail.EBEFOREENABLED {
							errs <- fmt.Errorf("append before enabled: got %v, want %v", err, audittrail.EBEFOREENABLED)
						}
					default:
						if _, err = s.AppendRecords(ctx, id, Entries(Records(2, start)...)); err != nil {
							errs <- err
						}
						good.Add(2)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		all := MustFindAll(t, s, id)
		if int64(len(all)) != 1+good.Load() {
			t.Fatalf("records: got %d, want %d", len(all), 1+good.Load())
		}
		checkSeqs(t, all)
	})

	t.Run("IdempotentRetries", func(t *testing.T) {
		// The same entry sent by many writers at once is stored once, and
		// every writer is answered with the records stored.
		const writers = 8
		s, clk := MustOpen(t, open)
		id := MustCreateAccount(t, s, clk, true).Account.ID
		answers := make([][]*audittrail.Record, writers)
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Go(func() {
				rs, err := s.AppendRecords(ctx, id, []audittrail.Entry{{IdempotencyKey: "k", Fingerprint: "fp", Records: Records(3, start)}})
				if err != nil {
					errs <- err
				}
				answers[w] = rs
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		all := MustFindAll(t, s, id)
		if len(all) != 3 {
			t.Fatalf("records: got %d, want 3", len(all))
		}
		for _, rs := range answers {
			CheckRecords(t, rs, answers[0])
		}
	})

	t.Run("PagingWhileAppending", func(t *testing.T) {
		// Paging while records of every date arrive sees each record that
		// was there at the start exactly once, and no record twice.
		s, clk := MustOpen(t, open)
		id := MustCreateAccount(t, s, clk, true).Account.ID
		base := clk.Now()
		dated := func(rnd *rand.Rand) *audittrail.Record {
			return NewRecord(base.Add(time.Duration(rnd.IntN(60)) * time.Second))
		}
		rnd := rand.New(rand.NewPCG(1, 2))
		var initial []*audittrail.Record
		for range 5 {
			batch := make([]*audittrail.Record, 40)
			for i := range batch {
				batch[i] = dated(rnd)
			}
			initial = append(initial, MustAppend(t, s, id, Entries(batch...)...)...)
		}

		stop := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for w := range 4 {
			wg.Go(func() {
				rnd := rand.New(rand.NewPCG(uint64(w), 3))
				for range 50 {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := s.AppendRecords(ctx, id, Entries(dated(rnd), dated(rnd))); err != nil {
						errs <- err
						return
					}
				}
			})
		}

		seen := map[string]int{}
		f := audittrail.RecordFilter{AccountID: id, Limit: 7}
		for {
			rs, err := s.FindRecords(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				seen[r.ID]++
			}
			if len(rs) < f.Limit {
				break
			}
			f.After = audittrail.CursorOf(rs[len(rs)-1])
		}
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}

		for id, n := range seen {
			if n != 1 {
				t.Fatalf("record %v: got %d times, want once", id, n)
			}
		}
		for _, r := range initial {
			if seen[r.ID] != 1 {
				t.Fatalf("record %v present at the start: got %d times, want once", r.ID, seen[r.ID])
			}
		}
	})
}

// checkSeqs fails the test unless the seqs of rs are 0 to len(rs)-1, each once.
func checkSeqs(tb testing.TB, rs []*audittrail.Record) {
	tb.Helper()
	seen := make([]bool, len(rs))
	for _, r := range rs {
		if r.Seq < 0 || r.Seq >= int64(len(rs)) {
			tb.Fatalf("seq: got %v, want 0 to %d", r.Seq, len(rs)-1)
		} else if seen[r.Seq] {
			tb.Fatalf("seq %v: got twice, want once", r.Seq)
		}
		seen[r.Seq] = true
	}
}
