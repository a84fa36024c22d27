package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/sqlite"
	"github.com/audittrail/audittrail/store"
	"github.com/audittrail/audittrail/storetest"
)

var ctx = context.Background()

func TestDB(t *testing.T) {
	storetest.Run(t, func(tb testing.TB, now func() time.Time) audittrail.Store {
		return MustOpenDB(tb, now).Store
	})
}

// DB is a store over a SQLite backend, for the tests: the Store's methods,
// the backend as Backend, and the clock of both as Now.
type DB struct {
	*store.Store
	Backend *sqlite.DB
	Now     func() time.Time
}

// MustOpenDB opens a new database in a temporary directory, with the clock
// now, and closes it at the end of the test.
func MustOpenDB(tb testing.TB, now func() time.Time) *DB {
	tb.Helper()
	return mustOpenPath(tb, filepath.Join(tb.TempDir(), "data", "audittrail.db"), now)
}

// mustOpenPath opens the database at path for writing, as the CLI does:
// the backend, the store over it, and the log caught up.
func mustOpenPath(tb testing.TB, path string, now func() time.Time) *DB {
	tb.Helper()
	db, err := openPath(path, now)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

func openPath(path string, now func() time.Time) (*DB, error) {
	if now == nil {
		now = time.Now
	}
	b := sqlite.NewDB(path, now)
	if err := b.Open(); err != nil {
		return nil, err
	}
	s := store.New(b)
	if err := s.CatchUp(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return &DB{Store: s, Backend: b, Now: now}, nil
}

// rawDB opens the database file directly, beside the store.
func rawDB(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { raw.Close() })
	return raw
}

// clock returns a fixed clock at the time tests start from.
func clock() func() time.Time {
	t := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	return func() time.Time { return t }
}

// mustAccount creates an account whose audit trail is enabled, and returns
// its id.
func mustAccount(tb testing.TB, db *DB) string {
	tb.Helper()
	return storetest.MustEnabledAccount(tb, db, "acme", db.Now())
}

func TestDB_Migrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audittrail.db")
	db, err := openPath(path, clock())
	if err != nil {
		t.Fatal(err)
	}
	id := mustAccount(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Opening again applies nothing twice and keeps the data.
	db = mustOpenPath(t, path, clock())
	if _, err := db.FindAccount(ctx, id); err != nil {
		t.Fatal(err)
	}
	rows, err := rawDB(t, path).Query(`SELECT name FROM migrations ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	entries, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != len(entries) || names[0] != "migrations/0001_init.sql" {
		t.Fatalf("migrations: got %v, want one per file of migrations/ (%d)", names, len(entries))
	}
}

func TestDB_EnableAuditTrailAt(t *testing.T) {
	db := MustOpenDB(t, clock())
	id := "acme"
	profiles := audittrail.BuiltinProfiles(id, db.Now())
	if err := db.CreateAccount(ctx, &audittrail.Account{ID: id, Name: "Acme"}, profiles, nil); err != nil {
		t.Fatal(err)
	}
	at := db.Now().AddDate(-1, 0, 0)
	if err := storetest.EnableAuditTrailAt(ctx, db, id, at); err != nil {
		t.Fatal(err)
	}
	a, err := db.FindAccount(ctx, id)
	if err != nil {
		t.Fatal(err)
	} else if !a.AuditTrailEnabled || a.AuditTrailEnabledAt == nil || !a.AuditTrailEnabledAt.Equal(at) {
		t.Fatalf("account: got %v %v, want true %v", a.AuditTrailEnabled, a.AuditTrailEnabledAt, at)
	}
	storetest.MustAppend(t, db, id, storetest.Entries(storetest.NewRecord(at))...)
	storetest.CheckCode(t, storetest.EnableAuditTrailAt(ctx, db, "no-such-account", at), audittrail.ENOTFOUND)
}

func TestDB_Pragmas(t *testing.T) {
	db := MustOpenDB(t, nil)
	for _, write := range []bool{true, false} {
		for name, want := range map[string]string{
			"journal_mode": "wal",
			"synchronous":  "2", // FULL
			"busy_timeout": "5000",
			"foreign_keys": "1",
		} {
			got, err := db.Backend.Pragma(name, write)
			if err != nil {
				t.Fatal(err)
			} else if got != want {
				t.Fatalf("%s (write connection %v): got %v, want %v", name, write, got, want)
			}
		}
	}
	if got, err := db.Backend.Pragma("query_only", false); err != nil {
		t.Fatal(err)
	} else if got != "1" {
		t.Fatalf("query_only of a read connection: got %v, want 1", got)
	}
}

func TestDB_OpenErrors(t *testing.T) {
	if err := sqlite.NewDB("", nil).Open(); err == nil {
		t.Fatalf("Open with no path: got nil error, want an error")
	}
	if err := sqlite.NewDB(filepath.Join(t.TempDir(), "what?.db"), nil).Open(); err == nil {
		t.Fatalf("Open with '?' in the path: got nil error, want an error")
	}
}

func TestDB_GroupCommit(t *testing.T) {
	t.Run("Batches", func(t *testing.T) {
		// While the writer is busy, the writes that arrive wait, and then go
		// in one transaction.
		const writers = 32
		db := MustOpenDB(t, clock())
		id := mustAccount(t, db)
		before := db.Backend.Stats()

		release := db.Backend.Block()
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for range writers {
			wg.Go(func() {
				if _, err := db.AppendRecords(ctx, id, storetest.Entries(storetest.NewRecord(db.Now()))); err != nil {
					errs <- err
				}
			})
		}
		sqlite.WaitForWriters(t, writers) // every writer at the writer's door
		release()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}

		after := db.Backend.Stats()
		if got, want := after.Writes-before.Writes, int64(writers+1); got != want {
			t.Fatalf("writes: got %v, want %v", got, want)
		}
		// The blocking write's batch, then one for all the waiting writes.
		if got := after.Commits - before.Commits; got > 3 {
			t.Fatalf("commits for %d writes: got %v, want at most 3", writers+1, got)
		}
		rs, err := db.FindRecords(ctx, audittrail.RecordFilter{AccountID: id, Limit: audittrail.MaxLimit})
		if err != nil {
			t.Fatal(err)
		} else if len(rs) != writers {
			t.Fatalf("records: got %d, want %d", len(rs), writers)
		}
	})

	t.Run("FailureInBatch", func(t *testing.T) {
		// A write that fails in a batch leaves the others of the batch stored.
		db := MustOpenDB(t, clock())
		id := mustAccount(t, db)
		release := db.Backend.Block()
		var wg sync.WaitGroup
		var errGood, errBad, errDup error
		wg.Go(func() {
			_, errGood = db.AppendRecords(ctx, id, storetest.Entries(storetest.NewRecord(db.Now())))
		})
		wg.Go(func() {
			_, errBad = db.AppendRecords(ctx, id, storetest.Entries(storetest.NewRecord(db.Now()), storetest.NewRecord(db.Now().Add(-time.Hour))))
		})
		wg.Go(func() {
			profiles := audittrail.BuiltinProfiles(id, db.Now())
			errDup = db.CreateAccount(ctx, &audittrail.Account{ID: id, Name: "Again"}, profiles, nil)
		})
		sqlite.WaitForWriters(t, 3)
		before := db.Backend.Stats()
		release()
		wg.Wait()

		if errGood != nil {
			t.Fatalf("good write: got %v, want nil", errGood)
		}
		storetest.CheckCode(t, errBad, audittrail.EBEFOREENABLED)
		storetest.CheckCode(t, errDup, audittrail.EALREADYEXISTS)
		if got := db.Backend.Stats().Commits - before.Commits; got > 2 {
			t.Fatalf("commits: got %v, want at most 2", got)
		}
		rs, err := db.FindRecords(ctx, audittrail.RecordFilter{AccountID: id})
		if err != nil {
			t.Fatal(err)
		} else if len(rs) != 1 || rs[0].Seq != 0 {
			t.Fatalf("records: got %d, want the good one with seq 0", len(rs))
		}
		if ps, err := storetest.FindProfiles(ctx, db, id); err != nil {
			t.Fatal(err)
		} else if len(ps) != 4 {
			t.Fatalf("profiles: got %d, want 4", len(ps))
		}
	})

	t.Run("CancelWhileWaiting", func(t *testing.T) {
		// A caller that gives up before the writer takes its write is told
		// so, and nothing of it is stored.
		db := MustOpenDB(t, clock())
		id := mustAccount(t, db)
		release := db.Backend.Block()
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := db.AppendRecords(cctx, id, storetest.Entries(storetest.NewRecord(db.Now())))
		release()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error: got %v, want %v", err, context.DeadlineExceeded)
		}
		if n, err := db.CountRecords(ctx, audittrail.RecordFilter{AccountID: id}); err != nil {
			t.Fatal(err)
		} else if n != 0 {
			t.Fatalf("records: got %d, want 0", n)
		}
	})
}

func TestDB_Close(t *testing.T) {
	// Close while writers write: every write is answered, and every write
	// answered without error is stored.
	path := filepath.Join(t.TempDir(), "audittrail.db")
	db, err := openPath(path, clock())
	if err != nil {
		t.Fatal(err)
	}
	id := mustAccount(t, db)

	var mu sync.Mutex
	var stored []string
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for {
				rs, err := db.AppendRecords(ctx, id, storetest.Entries(storetest.NewRecord(db.Now())))
				if err != nil {
					return
				}
				mu.Lock()
				stored = append(stored, rs[0].ID)
				mu.Unlock()
			}
		})
	}
	// Close once the writers have written, however long that takes.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		mu.Lock()
		n := len(stored)
		mu.Unlock()
		if n >= 16 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("writes stored before Close: got %d after a minute, want 16", n)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if _, err := db.AppendRecords(ctx, id, storetest.Entries(storetest.NewRecord(db.Now()))); err == nil {
		t.Fatalf("write after Close: got nil error, want an error")
	}
	if err := db.Ping(ctx); err == nil {
		t.Fatalf("Ping after Close: got nil error, want an error")
	}

	db = mustOpenPath(t, path, clock())
	n, err := db.CountRecords(ctx, audittrail.RecordFilter{AccountID: id})
	if err != nil {
		t.Fatal(err)
	} else if n != len(stored) {
		t.Fatalf("records after reopening: got %d, want the %d answered", n, len(stored))
	}
	for _, rid := range stored {
		if _, err := db.FindRecord(ctx, id, rid); err != nil {
			t.Fatalf("record %v answered as stored: %v", rid, err)
		}
	}
}

func TestDB_IterateRecords(t *testing.T) {
	db := MustOpenDB(t, clock())
	id := mustAccount(t, db)
	var all []*audittrail.Record
	for i := range 3 {
		rs := storetest.Records(400, db.Now().Add(time.Duration(i)*time.Minute))
		all = append(all, storetest.MustAppend(t, db, id, storetest.Entries(rs...)...)...)
	}
	f := audittrail.RecordFilter{AccountID: id, Limit: 3}
	want := storetest.MustFindAll(t, db, id)

	var got []*audittrail.Record
	if err := db.IterateRecords(ctx, f, func(r *audittrail.Record) error {
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	storetest.CheckRecords(t, got, want)
	if len(got) != len(all) {
		t.Fatalf("records: got %d, want %d", len(got), len(all))
	}

	// A filter applies; an error of fn stops the iteration.
	f.To = ptr(db.Now())
	n := 0
	if err := db.IterateRecords(ctx, f, func(r *audittrail.Record) error { n++; return nil }); err != nil {
		t.Fatal(err)
	} else if n != 400 {
		t.Fatalf("records to %v: got %d, want 400", *f.To, n)
	}
	stop := errors.New("stop")
	n = 0
	if err := db.IterateRecords(ctx, f, func(r *audittrail.Record) error { n++; return stop }); err != stop {
		t.Fatalf("error: got %v, want %v", err, stop)
	} else if n != 1 {
		t.Fatalf("calls after an error: got %d, want 1", n)
	}
}

func TestDB_QueryPlans(t *testing.T) {
	// Each listing reads an index in the listing's order: no sort of the
	// matching rows, however many there are.
	path := filepath.Join(t.TempDir(), "audittrail.db")
	mustOpenPath(t, path, clock())
	raw := rawDB(t, path)
	if _, err := raw.Exec(`ANALYZE`); err != nil {
		t.Fatal(err)
	}
	for name, f := range storetest.PlanFilters(time.Now()) {
		f.AccountID, f.Limit = "acme", 100
		query, args := sqlite.RecordQuery(f)
		rows, err := raw.Query(`EXPLAIN QUERY PLAN `+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if strings.Contains(p, "TEMP B-TREE") || !strings.Contains(p, "USING INDEX") {
			t.Errorf("plan of %s: got %q, want an index in order, without sorting", name, p)
		}
		t.Logf("%s: %s", name, p)
	}
}

func ptr[T any](v T) *T { return &v }
