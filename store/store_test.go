package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/sqlite"
	"github.com/audittrail/audittrail/store"
	"github.com/audittrail/audittrail/storetest"
	"github.com/audittrail/audittrail/tlog"
)

var ctx = context.Background()

// mustOpen opens a store over a new SQLite database at path, closed at the
// end of the test.
func mustOpen(tb testing.TB, path string) *store.Store {
	tb.Helper()
	b := sqlite.NewDB(path, nil)
	if err := b.Open(); err != nil {
		tb.Fatal(err)
	}
	s := store.New(b)
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestStore_Subscribe(t *testing.T) {
	// Concurrent appends: each commit is announced once, after it is
	// durable (its records can be read), and the commits cover every seq
	// once.
	s := mustOpen(t, filepath.Join(t.TempDir(), "audittrail.db"))
	clk := &storetest.Clock{}
	fx := storetest.MustCreateAccount(t, s, clk, true)
	id := fx.Account.ID

	var mu sync.Mutex
	var commits []audittrail.Commit
	unreadable := 0
	s.Subscribe(func(c audittrail.Commit) {
		n := 0
		err := s.View(ctx, func(tx audittrail.Tx) error {
			return tx.FindRecordsBySeq(c.AccountID, c.FirstSeq, c.EndSeq, int(c.EndSeq-c.FirstSeq), func(*audittrail.Record) error { n++; return nil })
		})
		mu.Lock()
		defer mu.Unlock()
		if err != nil || int64(n) != c.EndSeq-c.FirstSeq {
			unreadable++
		}
		commits = append(commits, c)
	})

	const writers, appends = 8, 10
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for i := range appends {
				if _, err := s.AppendRecords(ctx, id, storetest.Entries(storetest.Records(1+i%3, time.Now())...)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if unreadable > 0 {
		t.Fatalf("commits announced before their records could be read: %d", unreadable)
	}
	if len(commits) != writers*appends {
		t.Fatalf("commits: got %d, want one per append (%d)", len(commits), writers*appends)
	}
	sort.Slice(commits, func(i, j int) bool { return commits[i].FirstSeq < commits[j].FirstSeq })
	next := int64(0)
	for _, c := range commits {
		if c.AccountID != id || c.FirstSeq != next || c.EndSeq <= c.FirstSeq {
			t.Fatalf("commit %+v: want one of account %s from seq %d", c, id, next)
		}
		next = c.EndSeq
	}
}

func TestStore_CatchUp(t *testing.T) {
	// An account whose records were written without their leaves (before
	// the log existed) catches up: its tree is the one over its records,
	// and appends go on from it.
	path := filepath.Join(t.TempDir(), "audittrail.db")
	s := mustOpen(t, path)
	clk := &storetest.Clock{}
	from := storetest.MustCreateAccount(t, s, clk, true).Account.ID
	id := storetest.MustCreateAccount(t, s, clk, true).Account.ID
	storetest.MustAppend(t, s, from, storetest.Entries(storetest.Records(10, time.Now())...)...)

	// The records of from, copied to id as a store without the log wrote them.
	raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`INSERT INTO records (account_id, seq, id, change_id, object_type, object_id, object_name, action_type, element,
			old_value, new_value, date, originator_id, originator_name, originator, automatic, received_at, source, search_text)
		SELECT ?, seq, id || '-copy', change_id, object_type, object_id, object_name, action_type, element,
			old_value, new_value, date, originator_id, originator_name, originator, automatic, received_at, source, search_text
		FROM records WHERE account_id = ?`, id, from); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE accounts SET next_seq = 10 WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	if size, _, _ := s.TreeHead(ctx, id); size != 0 {
		t.Fatalf("tree size before catching up: got %d, want 0", size)
	}

	if err := s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	storetest.MustAppend(t, s, id, storetest.Entries(storetest.NewRecord(time.Now()))...)
	want, err := tlog.NewTree(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.IterateRecordsBySeq(ctx, id, func(r *audittrail.Record) error {
		return want.Append(tlog.LeafHash(r), func(tlog.NodeID, []byte) {})
	}); err != nil {
		t.Fatal(err)
	}
	size, hashes, err := s.TreeHead(ctx, id)
	if err != nil {
		t.Fatal(err)
	} else if size != 11 || size != want.Size() || len(hashes) != len(want.Hashes()) {
		t.Fatalf("tree after catching up: got size %d (%d hashes), want 11 (%d)", size, len(hashes), len(want.Hashes()))
	}
	for i, h := range want.Hashes() {
		if !bytes.Equal(hashes[i], h) {
			t.Fatalf("hash %d of the compact range: not the tree of the records", i)
		}
	}
	if leaves, _, err := s.LeafHashes(ctx, id); err != nil {
		t.Fatal(err)
	} else if len(leaves) != 11 {
		t.Fatalf("leaves after catching up: got %d, want 11", len(leaves))
	}
	// Nothing is behind any more: catching up again changes nothing.
	if err := s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
}
