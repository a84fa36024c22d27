package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/postgres"
	"github.com/audittrail/audittrail/store"
	"github.com/audittrail/audittrail/storetest"
	"github.com/jackc/pgx/v5"
)

var ctx = context.Background()

// testURL returns the URL of the test database, from
// AUDITTRAIL_TEST_POSTGRES, or skips the test.
func testURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("AUDITTRAIL_TEST_POSTGRES")
	if u == "" {
		tb.Skip("AUDITTRAIL_TEST_POSTGRES is not set: set it to the URL of a PostgreSQL database the tests may create schemas in " +
			"(postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the PostgreSQL tests")
	}
	return u
}

// withParams returns u with the query parameters set.
func withParams(tb testing.TB, u string, params map[string]string) string {
	tb.Helper()
	p, err := url.Parse(u)
	if err != nil {
		tb.Fatal(err)
	}
	q := p.Query()
	for k, v := range params {
		q.Set(k, v)
	}
	p.RawQuery = q.Encode()
	return p.String()
}

// randomName returns prefix followed by random hex digits: a name no other
// test uses.
func randomName(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// mustConnect opens a plain connection to u, closed at the end of the test.
func mustConnect(tb testing.TB, u string) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(ctx) })
	return conn
}

// mustExec runs sql on conn.
func mustExec(tb testing.TB, conn *pgx.Conn, sql string, args ...any) {
	tb.Helper()
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// MustSchema creates a new, empty schema in the test database and returns
// the URL that uses it (its search_path), and its name. The schema and
// everything in it are dropped at the end of the test, after the stores
// opened meanwhile are closed.
func MustSchema(tb testing.TB) (u, schema string) {
	tb.Helper()
	base := testURL(tb)
	schema = randomName("t_")
	admin := mustConnect(tb, base)
	mustExec(tb, admin, `CREATE SCHEMA `+schema)
	tb.Cleanup(func() {
		if _, err := admin.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withParams(tb, base, testParams(schema)), schema
}

// testParams returns the run-time parameters of the tests' connections:
// the schema, and commits that do not wait for the WAL to reach the disk.
// The tests check no durability, and on a busy machine each wait (one per
// commit, of the migrations and of every write) costs milliseconds.
func testParams(schema string) map[string]string {
	return map[string]string{"search_path": schema, "synchronous_commit": "off"}
}

// DB is a store over a PostgreSQL backend, for the tests: the Store's
// methods, the backend as Backend, and the clock of both as Now.
type DB struct {
	*store.Store
	Backend *postgres.DB
	Now     func() time.Time
}

// newDB returns the backend at u with the clock now (time.Now if nil), not
// open yet, and the store over it.
func newDB(u string, now func() time.Time) *DB {
	if now == nil {
		now = time.Now
	}
	b := postgres.NewDB(u, now)
	b.MaxConns = 4
	return &DB{Store: store.New(b), Backend: b, Now: now}
}

// LoadOrCreateKey calls the backend's.
func (db *DB) LoadOrCreateKey(ctx context.Context, name string, create func() (string, error)) (string, error) {
	return db.Backend.LoadOrCreateKey(ctx, name, create)
}

// EnsurePartitions calls the backend's.
func (db *DB) EnsurePartitions(ctx context.Context, now time.Time) error {
	return db.Backend.EnsurePartitions(ctx, now)
}

// MustOpenDB opens the store at u with the clock now (if not nil), closed
// at the end of the test.
func MustOpenDB(tb testing.TB, u string, now func() time.Time) *DB {
	tb.Helper()
	db := newDB(u, now)
	if err := db.Backend.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

// MustOpenNew opens a store on a new schema.
func MustOpenNew(tb testing.TB, now func() time.Time) *DB {
	tb.Helper()
	u, _ := MustSchema(tb)
	return MustOpenDB(tb, u, now)
}

func TestDB(t *testing.T) {
	// The suite opens a store per subtest: the months of its records (from
	// 2025-03) and a few around, the rest go to the default partition.
	defer postgres.SetPartitionWindow(1, 3)()
	storetest.Run(t, func(tb testing.TB, now func() time.Time) audittrail.Store {
		return MustOpenNew(tb, now).Store
	})
}

// mustAccount creates an account whose audit trail is enabled, and returns
// its id.
func mustAccount(tb testing.TB, db *DB) string {
	tb.Helper()
	return storetest.MustEnabledAccount(tb, db, randomName("acme-"), db.Now())
}

func TestDB_Migrations(t *testing.T) {
	u, _ := MustSchema(t)
	MustOpenDB(t, u, nil).Close()
	// Opening again applies nothing twice.
	MustOpenDB(t, u, nil)
	rows, err := mustConnect(t, u).Query(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range entries {
		want = append(want, e.Name())
	}
	if !slices.Equal(names, want) {
		t.Fatalf("migrations: got %v, want one per file of migrations/ %v", names, want)
	}
}

func TestDB_OpenErrors(t *testing.T) {
	u := testURL(t)
	for name, tc := range map[string]struct{ url, want string }{
		"NoURL":    {"", "URL required"},
		"BadURL":   {"postgres://[::1", "cannot parse"},
		"NoSchema": {withParams(t, u, map[string]string{"search_path": randomName("missing_")}), "names no schema that exists"},
		"NoServer": {"postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2", "connect"},
	} {
		t.Run(name, func(t *testing.T) {
			db := postgres.NewDB(tc.url, nil)
			err := db.Open()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open: got %v, want an error that says %q", err, tc.want)
			}
			db.Close()
		})
	}
}

func TestDB_Close(t *testing.T) {
	db := MustOpenNew(t, nil)
	id := mustAccount(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: got %v, want nil", err)
	}
	if _, err := db.AppendRecords(ctx, id, storetest.Entries(storetest.NewRecord(time.Now()))); err == nil {
		t.Fatal("write after Close: got nil error, want an error")
	}
	if _, err := db.FindAccount(ctx, id); err == nil {
		t.Fatal("read after Close: got nil error, want an error")
	}
	if err := db.Ping(ctx); err == nil {
		t.Fatal("Ping after Close: got nil error, want an error")
	}
}

func TestDB_NUL(t *testing.T) {
	// PostgreSQL text cannot hold a NUL character: such a batch is refused
	// as invalid, not failed as internal, and stores nothing.
	now := time.Now().UTC()
	db := MustOpenNew(t, func() time.Time { return now })
	id := mustAccount(t, db)
	value := storetest.NewRecord(now)
	value.NewValue = "a\x00b"
	name := storetest.NewRecord(now)
	name.Originator.Name = "Ol\x00ga"
	for _, r := range []*audittrail.Record{value, name} {
		_, err := db.AppendRecords(ctx, id, storetest.Entries(storetest.NewRecord(now), r))
		storetest.CheckCode(t, err, audittrail.EVALIDATION)
	}
	if rs := storetest.MustAppend(t, db, id, storetest.Entries(storetest.NewRecord(now))...); rs[0].Seq != 0 {
		t.Fatalf("seq after refused batches: got %d, want 0", rs[0].Seq)
	}
}

func TestDB_ReadOnly(t *testing.T) {
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	u, _ := MustSchema(t)

	// An empty schema cannot be opened read-only: nothing to read.
	ro := newDB(u, nil)
	ro.Backend.ReadOnly = true
	if err := ro.Backend.Open(); err == nil || !strings.Contains(err.Error(), "pending") {
		t.Fatalf("Open read-only before the migrations: got %v, want an error that says they are pending", err)
	}

	db := MustOpenDB(t, u, func() time.Time { return now })
	id := mustAccount(t, db)
	storetest.MustAppend(t, db, id, storetest.Entries(storetest.Records(3, now)...)...)
	if _, err := db.LoadOrCreateKey(ctx, "checkpoint", func() (string, error) { return "secret", nil }); err != nil {
		t.Fatal(err)
	}
	conn := mustConnect(t, u)
	before := snapshot(t, conn)

	// A year later, read-only: it reads everything, writes nothing, and
	// creates no partition for the months it would be due.
	ro = newDB(u, func() time.Time { return now.AddDate(1, 0, 0) })
	ro.Backend.ReadOnly = true
	if err := ro.Backend.Open(); err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	storetest.CheckRecords(t, storetest.MustFindAll(t, ro, id), storetest.MustFindAll(t, db, id))
	if got, err := ro.LoadOrCreateKey(ctx, "checkpoint", nil); err != nil || got != "secret" {
		t.Fatalf("LoadOrCreateKey: got %q, %v, want the stored secret", got, err)
	}
	_, err := ro.LoadOrCreateKey(ctx, "other", func() (string, error) {
		t.Fatal("create called by a read-only store")
		return "", nil
	})
	storetest.CheckCode(t, err, audittrail.ENOTFOUND)

	on := true
	for name, write := range map[string]func() error{
		"AppendRecords": func() error {
			_, err := ro.AppendRecords(ctx, id, storetest.Entries(storetest.NewRecord(now)))
			return err
		},
		"CreateAccount": func() error {
			return ro.CreateAccount(ctx, &audittrail.Account{ID: randomName("ro-"), Name: "X"}, nil, nil)
		},
		"UpdateAccount": func() error {
			_, err := storetest.UpdateAccount(ctx, ro, id, audittrail.AccountUpdate{AuditTrailEnabled: &on})
			return err
		},
		"AddCheckpoint": func() error {
			return ro.AddCheckpoint(ctx, &audittrail.Checkpoint{AccountID: id, TreeSize: 3, RootHash: make([]byte, 32), Note: []byte("x\n")})
		},
		"PurgeRecords": func() error {
			_, err := ro.PurgeRecords(ctx, now.AddDate(1, 0, 0))
			return err
		},
		"EnsurePartitions": func() error { return ro.EnsurePartitions(ctx, now.AddDate(2, 0, 0)) },
		"DeleteToken":      func() error { return storetest.DeleteToken(ctx, ro, id, []byte("x")) },
	} {
		if err := write(); err == nil {
			t.Errorf("%s on a read-only store: got nil error, want an error", name)
		}
	}
	if after := snapshot(t, conn); after != before {
		t.Fatalf("database after the read-only store:\ngot  %s\nwant %s", after, before)
	}
}

// snapshot describes what the schema holds: its tables and the rows of the
// store's tables.
func snapshot(tb testing.TB, conn *pgx.Conn) string {
	tb.Helper()
	var s string
	err := conn.QueryRow(ctx, `
		SELECT (SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relnamespace = current_schema()::regnamespace)
			|| ' accounts ' || (SELECT string_agg(a::text, ',' ORDER BY id) FROM accounts a)
			|| ' records ' || (SELECT count(*) FROM records)
			|| ' nodes ' || (SELECT count(*) FROM tree_nodes)
			|| ' checkpoints ' || (SELECT count(*) FROM checkpoints)
			|| ' purged ' || (SELECT count(*) FROM purged)
			|| ' secrets ' || (SELECT count(*) FROM secrets)
			|| ' migrations ' || (SELECT count(*) FROM schema_migrations)`).Scan(&s)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestDB_QueryPlans(t *testing.T) {
	// Each listing reads an index in the listing's order: no sort of the
	// matching rows, however many there are. (Planner costs are set so
	// that a scan of the whole table is never chosen for a small one.)
	u, _ := MustSchema(t)
	MustOpenDB(t, u, nil)
	conn := mustConnect(t, u)
	mustExec(t, conn, `SET enable_seqscan = off`)
	mustExec(t, conn, `SET enable_bitmapscan = off`)
	sort := regexp.MustCompile(`(?m)(^|->\s+)(Incremental )?Sort\b`)
	for name, f := range storetest.PlanFilters(time.Now()) {
		f.AccountID, f.Limit = "acme", 100
		query, args := postgres.RecordQuery(f)
		rows, err := conn.Query(ctx, `EXPLAIN `+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(lines, "\n")
		if sort.MatchString(plan) || !strings.Contains(plan, "Index") {
			t.Errorf("plan of %s: got\n%s\nwant an index in order, without sorting", name, plan)
		}
	}
}
