//go:build linux

package sqlite_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/storetest"
)

// envFaultChild marks the process that TestDB_StorageFailure runs itself in.
const envFaultChild = "AUDITTRAIL_TEST_FAULT_CHILD"

// TestDB_StorageFailure checks the store on a file layer that fails to
// write. The faulty layer is the kernel's: the test runs itself again in a
// child process that lowers its own RLIMIT_FSIZE, so that every write to a
// file past the limit fails with EFBIG (the Go runtime ignores the SIGXFSZ
// that comes with it), and then raises it again. A child, because the limit
// holds for the whole process, and the test binary writes files of its own.
//
// While writes fail: every write answers EUNAVAILABLE naming the trouble,
// never success; nothing of a failed batch is visible; reads still work; Ping
// answers EUNAVAILABLE. Once the limit is raised the store recovers by
// itself: Ping's probe write succeeds, the retried batch is stored once, seq
// goes on without a gap, and the file passes integrity_check.
func TestDB_StorageFailure(t *testing.T) {
	if os.Getenv(envFaultChild) != "" {
		storageFailureChild(t)
		return
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDB_StorageFailure$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), envFaultChild+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child process: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestDB_StorageFailure") {
		t.Fatalf("child process: got no PASS line, want one:\n%s", out)
	}
}

// setFileSizeLimit sets this process's soft RLIMIT_FSIZE and returns a
// function that restores the limit it replaced.
func setFileSizeLimit(tb testing.TB, n uint64) (restore func()) {
	tb.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		tb.Fatal(err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: old.Max}); err != nil {
		tb.Fatal(err)
	}
	return func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
			tb.Fatal(err)
		}
	}
}

// keyed returns an entry of n records under an idempotency key.
func keyed(db *DB, key string, n int) audittrail.Entry {
	e := audittrail.Entry{IdempotencyKey: "records:" + key, Fingerprint: "fp-" + key}
	for i := range n {
		r := storetest.NewRecord(db.Now())
		r.ObjectID = fmt.Sprintf("%s-%d", key, i)
		r.NewValue = strings.Repeat("x", 200)
		e.Records = append(e.Records, r)
	}
	return e
}

func storageFailureChild(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audittrail.db")
	db := mustOpenPath(t, path, clock())
	id := mustAccount(t, db)
	stored := storetest.MustAppend(t, db, id, keyed(db, "first", 3))

	mustUnavailable := func(tb testing.TB, what string, err error) {
		tb.Helper()
		if got := audittrail.ErrorCode(err); got != audittrail.EUNAVAILABLE {
			tb.Fatalf("%s: got code %q (%v), want %q", what, got, err, audittrail.EUNAVAILABLE)
		}
		if msg := audittrail.ErrorMessage(err); !strings.Contains(msg, "disk") {
			tb.Fatalf("%s: message %q does not name the trouble", what, msg)
		}
	}
	mustCount := func(tb testing.TB, want int) {
		tb.Helper()
		if n, err := db.CountRecords(ctx, audittrail.RecordFilter{AccountID: id}); err != nil {
			tb.Fatalf("reading while writes fail: %v", err)
		} else if n != want {
			tb.Fatalf("records: got %d, want %d", n, want)
		}
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping: got %v, want nil", err)
	}

	// Two ways to fail: no write at all (limit 0), and a big batch that
	// writes the first 64 KiB of its pages to an empty WAL before the limit
	// stops it, while small writes still fit.
	parent := t
	for _, tc := range []struct {
		name  string
		limit uint64
		none  bool // no write fits
	}{
		{"NoWrite", 0, true},
		{"HalfWritten", 64 << 10, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.none {
				// Close checkpoints the WAL and truncates it to nothing.
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
				db = mustOpenPath(parent, path, clock())
			}
			before := len(stored)
			restore := setFileSizeLimit(t, tc.limit)
			restored := false
			defer func() {
				if !restored {
					restore()
				}
			}()

			big := keyed(db, "big-"+tc.name, 1000)
			_, err := db.AppendRecords(ctx, id, []audittrail.Entry{big})
			mustUnavailable(t, "append", err)

			mustCount(t, before)
			if !tc.none {
				restore()
				restored = true
				stored = append(stored, retry(t, db, id, big, before)...)
				return
			}

			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range errs {
				wg.Go(func() {
					_, errs[i] = db.AppendRecords(ctx, id, []audittrail.Entry{keyed(db, fmt.Sprintf("c-%s-%d", tc.name, i), 50)})
				})
			}
			wg.Wait()
			for i, err := range errs {
				mustUnavailable(t, fmt.Sprint("concurrent append ", i), err)
			}
			profiles := audittrail.BuiltinProfiles("other", db.Now())
			mustUnavailable(t, "create account", db.CreateAccount(ctx, &audittrail.Account{ID: "other", Name: "Other"}, profiles, nil))
			mustUnavailable(t, "ping", db.Ping(ctx))
			mustCount(t, before)
			if _, err := db.FindAccount(ctx, "other"); audittrail.ErrorCode(err) != audittrail.ENOTFOUND {
				t.Fatalf("account of a failed write: got %v, want ENOTFOUND", err)
			}

			restore()
			restored = true
			if err := db.Ping(ctx); err != nil {
				t.Fatalf("Ping once the disk writes again: got %v, want nil", err)
			}
			stored = append(stored, retry(t, db, id, big, before)...)
			mustCount(t, len(stored))
		})
	}

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpenPath(t, path, clock())
	mustCount(t, len(stored))
	if size, _, err := db.TreeHead(ctx, id); err != nil {
		t.Fatal(err)
	} else if size != uint64(len(stored)) {
		t.Fatalf("tree size: got %d, want %d", size, len(stored))
	}
	var check string
	if err := rawDB(t, path).QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil {
		t.Fatal(err)
	} else if check != "ok" {
		t.Fatalf("integrity_check: got %q, want ok", check)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping: got %v, want nil", err)
	}
}

// retry stores the entry that failed, twice (the second time answers the
// records the first stored), checks that its records follow seq before
// without a gap, and returns them.
func retry(tb testing.TB, db *DB, id string, e audittrail.Entry, before int) []*audittrail.Record {
	tb.Helper()
	rs := storetest.MustAppend(tb, db, id, e)
	for i, r := range rs {
		if r.Seq != int64(before+i) {
			tb.Fatalf("record %d of the retried batch: got seq %d, want %d", i, r.Seq, before+i)
		}
	}
	again := storetest.MustAppend(tb, db, id, e)
	if len(again) != len(rs) || again[0].ID != rs[0].ID {
		tb.Fatalf("second retry: got %d records from %s, want the %d first stored from %s", len(again), again[0].ID, len(rs), rs[0].ID)
	}
	return rs
}
