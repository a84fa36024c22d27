package postgres_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/postgres"
	"github.com/audittrail/audittrail/storetest"
)

// mustReplicas opens n stores on one new schema, all at once, as replicas
// of the service starting together do.
func mustReplicas(tb testing.TB, n int, now func() time.Time) []*DB {
	tb.Helper()
	u, _ := MustSchema(tb)
	dbs := make([]*DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range dbs {
		dbs[i] = newDB(u, now)
		wg.Go(func() { errs[i] = dbs[i].Backend.Open() })
	}
	wg.Wait()
	for i, db := range dbs {
		if errs[i] != nil {
			tb.Fatalf("replica %d: Open: %v", i, errs[i])
		}
		tb.Cleanup(func() { db.Close() })
	}
	return dbs
}

func TestDB_Replicas(t *testing.T) {
	defer postgres.SetPartitionWindow(1, 3)()
	now := func() time.Time { return time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC) }

	t.Run("Appends", func(t *testing.T) {
		// Replicas append to the same accounts at once: each account's seqs
		// are 0 to N-1, each once; every record acknowledged is stored once,
		// as acknowledged; each call's records take consecutive seqs.
		const writers, calls = 12, 8
		dbs := mustReplicas(t, 3, now)
		accounts := []string{mustAccount(t, dbs[0]), mustAccount(t, dbs[1])}

		var mu sync.Mutex
		acked := map[string][]*audittrail.Record{}
		var wg sync.WaitGroup
		errs := make(chan error, writers*calls)
		for w := range writers {
			wg.Go(func() {
				db := dbs[w%len(dbs)]
				for c := range calls {
					id := accounts[(w+c)%len(accounts)]
					rs, err := db.AppendRecords(ctx, id, storetest.Entries(storetest.Records(1+(w+c)%5, now())...))
					if err != nil {
						errs <- err
						return
					}
					for i := range rs {
						if rs[i].Seq != rs[0].Seq+int64(i) {
							errs <- fmt.Errorf("seqs of one call: got %d then %d, want consecutive seqs", rs[0].Seq, rs[i].Seq)
							return
						}
					}
					mu.Lock()
					acked[id] = append(acked[id], rs...)
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
			stored := map[int64]*audittrail.Record{}
			if err := dbs[2].IterateRecordsBySeq(ctx, id, func(r *audittrail.Record) error {
				if stored[r.Seq] != nil {
					return fmt.Errorf("seq %d stored twice", r.Seq)
				}
				stored[r.Seq] = r
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(stored) != len(acked[id]) {
				t.Fatalf("records of %s: got %d stored, want the %d acknowledged", id, len(stored), len(acked[id]))
			}
			for seq := range int64(len(stored)) {
				if stored[seq] == nil {
					t.Fatalf("seq %d of %s: got none, want seqs 0 to %d without gaps", seq, id, len(stored)-1)
				}
			}
			for _, r := range acked[id] {
				storetest.CheckRecords(t, []*audittrail.Record{stored[r.Seq]}, []*audittrail.Record{r})
			}
			// The tree holds every record, in seq order.
			size, _, err := dbs[1].TreeHead(ctx, id)
			if err != nil {
				t.Fatal(err)
			} else if size != uint64(len(stored)) {
				t.Fatalf("tree size of %s: got %d, want %d", id, size, len(stored))
			}
			if rep := storetest.MustVerify(t, dbs[0], id, ""); !rep.OK() {
				t.Fatalf("verify %s: got %v, want no finding", id, rep.Findings)
			}
		}
	})

	t.Run("IdempotentRetries", func(t *testing.T) {
		// A change sent to every replica at once, as a client retrying on
		// another replica does, is stored once, and every replica answers
		// the records first stored; other content under the same key is a
		// conflict on any replica.
		dbs := mustReplicas(t, 4, now)
		id := mustAccount(t, dbs[0])
		for round := range 5 {
			key := fmt.Sprintf("change-%d", round)
			entry := audittrail.Entry{IdempotencyKey: key, Fingerprint: "fp-" + key, Records: storetest.Records(3, now())}
			answers := make([][]*audittrail.Record, 3*len(dbs))
			errs := make([]error, len(answers))
			var wg sync.WaitGroup
			for i := range answers {
				wg.Go(func() {
					answers[i], errs[i] = dbs[i%len(dbs)].AppendRecords(ctx, id, []audittrail.Entry{entry})
				})
			}
			wg.Wait()
			for i := range answers {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				storetest.CheckRecords(t, answers[i], answers[0])
			}
			if want := int64(3 * round); answers[0][0].Seq != want {
				t.Fatalf("first seq of round %d: got %d, want %d", round, answers[0][0].Seq, want)
			}
			other := entry
			other.Fingerprint = "other"
			_, err := dbs[(round+1)%len(dbs)].AppendRecords(ctx, id, []audittrail.Entry{other})
			storetest.CheckCode(t, err, audittrail.EIDEMPOTENCYCONFLICT)
		}
		if n, err := dbs[3].CountRecords(ctx, audittrail.RecordFilter{AccountID: id}); err != nil {
			t.Fatal(err)
		} else if n != 15 {
			t.Fatalf("records: got %d, want 15", n)
		}
	})

	t.Run("Cursor", func(t *testing.T) {
		// A cursor made by one replica pages on another.
		dbs := mustReplicas(t, 2, now)
		id := mustAccount(t, dbs[0])
		var all []*audittrail.Record
		for i := range 10 {
			all = append(all, storetest.MustAppend(t, dbs[i%2], id, storetest.Entries(storetest.Records(3, now().Add(time.Duration(i%4)*time.Minute))...)...)...)
		}
		f := audittrail.RecordFilter{AccountID: id, Limit: 4}
		var paged []*audittrail.Record
		for page := 0; ; page++ {
			rs, err := dbs[page%2].FindRecords(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			paged = append(paged, rs...)
			if len(rs) < f.Limit {
				break
			}
			// The token that the API hands out, read back by the other replica.
			if f.After, err = audittrail.ParseCursor(audittrail.CursorOf(rs[len(rs)-1]).String()); err != nil {
				t.Fatal(err)
			}
		}
		storetest.CheckRecords(t, paged, storetest.MustFindAll(t, dbs[1], id))
		if len(paged) != len(all) {
			t.Fatalf("records paged: got %d, want %d", len(paged), len(all))
		}
	})

	t.Run("LoadOrCreateKey", func(t *testing.T) {
		// Replicas starting at once end up with one key, the first stored.
		dbs := mustReplicas(t, 4, now)
		keys := make([]string, 8)
		errs := make([]error, len(keys))
		var wg sync.WaitGroup
		for i := range keys {
			wg.Go(func() {
				keys[i], errs[i] = dbs[i%len(dbs)].LoadOrCreateKey(ctx, "checkpoint", func() (string, error) {
					return fmt.Sprintf("key-of-%d", i), nil
				})
			})
		}
		wg.Wait()
		for i := range keys {
			if errs[i] != nil {
				t.Fatal(errs[i])
			} else if keys[i] != keys[0] || keys[0] == "" {
				t.Fatalf("keys: got %v, want one key for all", keys)
			}
		}
		// Later loads read it; create is not called.
		got, err := dbs[1].LoadOrCreateKey(ctx, "checkpoint", func() (string, error) {
			t.Fatal("create called for a stored key")
			return "", nil
		})
		if err != nil {
			t.Fatal(err)
		} else if got != keys[0] {
			t.Fatalf("key: got %q, want %q", got, keys[0])
		}
		// Another name is another secret; an error of create is returned.
		other, err := dbs[2].LoadOrCreateKey(ctx, "other", func() (string, error) { return "second", nil })
		if err != nil || other != "second" {
			t.Fatalf("other key: got %q, %v, want %q", other, err, "second")
		}
		if _, err := dbs[3].LoadOrCreateKey(ctx, "third", func() (string, error) { return "", fmt.Errorf("no entropy") }); err == nil {
			t.Fatal("create failing: got no error, want its error")
		}
	})
}

func TestDB_CommitsAcrossReplicas(t *testing.T) {
	// A commit through one replica is announced by the other, once; each
	// replica announces its own commits once, not again when it hears them.
	defer postgres.SetPartitionWindow(1, 3)()
	now := func() time.Time { return time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC) }
	dbs := mustReplicas(t, 2, now)
	a, b := dbs[0], dbs[1]
	id := mustAccount(t, a)
	// Another schema's commits, on the same database's channel, are not
	// this one's.
	stranger := MustOpenNew(t, now)
	strangerID := mustAccount(t, stranger)

	type heard struct {
		sync.Mutex
		commits []audittrail.Commit
	}
	subscribe := func(db *DB) *heard {
		h := &heard{}
		db.Subscribe(func(c audittrail.Commit) {
			h.Lock()
			h.commits = append(h.commits, c)
			h.Unlock()
		})
		return h
	}
	count := func(h *heard, c audittrail.Commit) int {
		h.Lock()
		defer h.Unlock()
		n := 0
		for _, got := range h.commits {
			if got == c {
				n++
			}
		}
		return n
	}
	ha, hb := subscribe(a), subscribe(b)

	// b listens on a connection of its own, which takes a moment to open:
	// append through a until b hears one of a's commits.
	var first audittrail.Commit
	for deadline := time.Now().Add(10 * time.Second); ; {
		rs := storetest.MustAppend(t, a.Store, id, storetest.Entries(storetest.NewRecord(now()))...)
		c := audittrail.Commit{AccountID: id, FirstSeq: rs[0].Seq, EndSeq: rs[0].Seq + 1}
		if waitFor(func() bool { return count(hb, c) > 0 }, 500*time.Millisecond) {
			first = c
			break
		} else if time.Now().After(deadline) {
			t.Fatal("replica b heard none of a's commits")
		}
	}
	if n := count(ha, first); n != 1 {
		t.Fatalf("a's own commit announced by a: got %d times, want 1", n)
	}

	// From now on each commit of a is heard by b, and of b by a, once.
	rs := storetest.MustAppend(t, a.Store, id, storetest.Entries(storetest.Records(3, now())...)...)
	ca := audittrail.Commit{AccountID: id, FirstSeq: rs[0].Seq, EndSeq: rs[0].Seq + 3}
	rs = storetest.MustAppend(t, b.Store, id, storetest.Entries(storetest.Records(2, now())...)...)
	cb := audittrail.Commit{AccountID: id, FirstSeq: rs[0].Seq, EndSeq: rs[0].Seq + 2}
	storetest.MustAppend(t, stranger.Store, strangerID, storetest.Entries(storetest.NewRecord(now()))...)
	if !waitFor(func() bool { return count(hb, ca) == 1 && count(ha, cb) == 1 }, 5*time.Second) {
		t.Fatalf("commits heard: a %v, b %v; want %v heard by b and %v by a", ha.commits, hb.commits, ca, cb)
	}
	time.Sleep(300 * time.Millisecond) // room for an announcement heard twice
	for _, tc := range []struct {
		h *heard
		c audittrail.Commit
	}{{ha, ca}, {hb, ca}, {ha, cb}, {hb, cb}} {
		if n := count(tc.h, tc.c); n != 1 {
			t.Fatalf("commit %v announced %d times, want once", tc.c, n)
		}
	}
	for _, h := range []*heard{ha, hb} {
		h.Lock()
		for _, c := range h.commits {
			if c.AccountID != id {
				t.Errorf("commit of another schema's account heard: %v", c)
			}
		}
		h.Unlock()
	}
}

// waitFor reports whether cond became true within d.
func waitFor(cond func() bool, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}
