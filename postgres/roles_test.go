package postgres_test

import (
	"errors"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/postgres"
	"github.com/audittrail/audittrail/storetest"
	"github.com/audittrail/audittrail/tlog"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestDB_LeastPrivilege sets up the roles of testdata/roles.sql in a new
// database, migrates as the owner, grants testdata/grants.sql, and runs
// the service as the service role: it appends, signs, creates partitions
// and purges, but cannot change or delete a record any other way.
func TestDB_LeastPrivilege(t *testing.T) {
	base := testURL(t)
	// Roles are global to the cluster: these have names of their own, and
	// the database is new, so the schema keeps the name of the snippet.
	owner, service := randomName("t_owner_"), randomName("t_service_")
	names := strings.NewReplacer("audittrail_owner", owner, "audittrail_service", service)
	snippet := func(file string) string {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return names.Replace(string(b))
	}

	dbName := randomName("t_db_")
	admin := mustConnect(t, base)
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+dbName); err != nil {
		t.Skipf("the test database's user cannot create a database (%v): this test needs one of its own", err)
	}
	t.Cleanup(func() {
		for _, sql := range []string{`DROP DATABASE ` + dbName + ` WITH (FORCE)`, `DROP ROLE IF EXISTS ` + owner, `DROP ROLE IF EXISTS ` + service} {
			if _, err := admin.Exec(ctx, sql); err != nil {
				t.Errorf("%s: %v", sql, err)
			}
		}
	})
	inDB := func(user string) string {
		p, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		p.Path = "/" + dbName
		if user != "" {
			p.User = url.User(user)
		}
		q := p.Query()
		q.Set("synchronous_commit", "off") // see testParams
		p.RawQuery = q.Encode()
		return p.String()
	}

	superuser := mustConnect(t, inDB(""))
	mustExec(t, superuser, snippet("testdata/roles.sql"))

	// The service role cannot migrate: it says so, and what to do.
	err := postgres.NewDB(inDB(service), nil).Open()
	if err == nil || !strings.Contains(err.Error(), "run the migrations as the schema's owner role") {
		t.Fatalf("Open as the service role of an empty schema: got %v, want an error that says to run the migrations as the owner", err)
	}

	// The owner migrates.
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	migrated := postgres.NewDB(inDB(owner), clock)
	if err := migrated.Open(); err != nil {
		t.Fatal(err)
	}
	migrated.Close()
	ownerConn := mustConnect(t, inDB(owner))
	mustExec(t, ownerConn, snippet("testdata/grants.sql"))

	// The service runs: every method it needs is allowed.
	db := MustOpenDB(t, inDB(service), clock)
	id := mustAccount(t, db)
	signer, err := tlog.NewSigner(mustKey(t))
	if err != nil {
		t.Fatal(err)
	}
	l := &tlog.Log{Store: db, Signer: signer, Logger: slog.New(slog.DiscardHandler), Now: clock}
	march := storetest.MustAppend(t, db, id, storetest.Entries(storetest.Records(3, now)...)...)
	april := storetest.MustAppend(t, db, id, storetest.Entries(storetest.Records(2, time.Date(2025, 4, 20, 0, 0, 0, 0, time.UTC))...)...)
	if _, err := l.Checkpoint(ctx, id, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := db.LoadOrCreateKey(ctx, "checkpoint", tlog.GenerateKey); err != nil {
		t.Fatal(err)
	}
	p := &audittrail.Profile{AccountID: id, Name: "Auditors", Role: audittrail.RoleAdministrator}
	if err := storetest.CreateProfile(ctx, db, p); err != nil {
		t.Fatal(err)
	}
	if err := storetest.DeleteProfile(ctx, db, id, p.ID); err != nil {
		t.Fatal(err)
	}
	k := &audittrail.PublisherKey{AccountID: id, Name: "crm", Prefix: "atk_x"}
	if err := storetest.CreatePublisherKey(ctx, db, k, []byte("hash")); err != nil {
		t.Fatal(err)
	}
	if _, err := storetest.RevokePublisherKey(ctx, db, id, k.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.EnsurePartitions(ctx, time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if n, err := db.PurgeRecords(ctx, time.Date(2025, 4, 10, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	} else if n != len(march) {
		t.Fatalf("records purged: got %d, want %d", n, len(march))
	}
	storetest.CheckRecords(t, storetest.MustFindAll(t, db, id), []*audittrail.Record{april[1], april[0]})
	if rep := storetest.MustVerify(t, db, id, signer.VerifierKey()); !rep.OK() {
		t.Fatalf("verify: got %v, want no finding", rep.Findings)
	}

	// Nothing else changes a record, as the service role: it has neither
	// the privilege nor the ownership, whatever it sets.
	serviceConn := mustConnect(t, inDB(service))
	mustExec(t, serviceConn, `SET audittrail.purge = 'on'`)
	for _, sql := range []string{
		`UPDATE records SET new_value = 'forged'`,
		`DELETE FROM records`,
		`DELETE FROM records_p2025_04`,
		`UPDATE records_p2025_04 SET new_value = 'forged'`,
		`TRUNCATE records`,
		`DROP TABLE records_p2025_04`,
		`ALTER TABLE records DETACH PARTITION records_p2025_04`,
		`ALTER TABLE records DISABLE TRIGGER records_append_only`,
		`UPDATE tree_nodes SET hash = hash`,
		`DELETE FROM tree_nodes`,
		`DELETE FROM checkpoints`,
		`INSERT INTO purged (account_id, seq) VALUES ('` + id + `', 4)`,
		`UPDATE accounts SET created_at = now()`,
		`DELETE FROM accounts`,
		`CREATE TABLE records_p2030_01 PARTITION OF records FOR VALUES FROM ('2030-01-01') TO ('2030-02-01')`,
	} {
		if _, err := serviceConn.Exec(ctx, sql); !isRefused(err) {
			t.Errorf("%s, as the service role: got %v, want it refused (SQLSTATE 42501)", sql, err)
		}
	}

	// Not even the owner changes a record by mistake: the triggers refuse.
	for _, sql := range []string{
		`UPDATE records SET new_value = 'forged'`,
		`DELETE FROM records`,
		`DELETE FROM records_p2025_04`,
		`TRUNCATE records`,
		`UPDATE tree_nodes SET hash = hash`,
		`DELETE FROM checkpoints`,
		`DELETE FROM purged`,
	} {
		if _, err := ownerConn.Exec(ctx, sql); !isRefused(err) {
			t.Errorf("%s, as the owner: got %v, want it refused (SQLSTATE 42501)", sql, err)
		}
	}
	storetest.CheckRecords(t, storetest.MustFindAll(t, db, id), []*audittrail.Record{april[1], april[0]})
	if rep := storetest.MustVerify(t, db, id, signer.VerifierKey()); !rep.OK() {
		t.Fatalf("verify: got %v, want no finding", rep.Findings)
	}

	// A pending migration: the service role says to run it as the owner.
	var last string
	if err := ownerConn.QueryRow(ctx, `DELETE FROM schema_migrations WHERE name = (SELECT max(name) FROM schema_migrations) RETURNING name`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	err = postgres.NewDB(inDB(service), nil).Open()
	if err == nil || !strings.Contains(err.Error(), last) || !strings.Contains(err.Error(), "run the migrations as the schema's owner role") {
		t.Fatalf("Open as the service role with %s pending: got %v, want an error that names it and says to run it as the owner", last, err)
	}
}

// isRefused reports whether err is PostgreSQL's refusal for want of a
// privilege (42501), which the append-only triggers raise too.
func isRefused(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "42501"
}
