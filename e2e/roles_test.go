package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestLeastPrivilege runs the real service on PostgreSQL under the role
// setup of docs/SCALING.md (postgres/testdata/roles.sql and grants.sql):
// the owner applies the migrations, the replicas connect as the service
// role, which appends, reads, signs checkpoints and purges, but cannot
// UPDATE or DELETE a record other than through the purge (issue 7).
func TestLeastPrivilege(t *testing.T) {
	t.Parallel()
	if !onPostgres() {
		t.Skip("PostgreSQL roles (runs in the PostgreSQL pass)")
	}
	b := make([]byte, 4)
	rand.Read(b)
	suffix := hex.EncodeToString(b)
	owner, service, schema := "at_owner_"+suffix, "at_service_"+suffix, "at_lp_"+suffix
	names := strings.NewReplacer("audittrail_owner", owner, "audittrail_service", service)
	schemaName := regexp.MustCompile(`\baudittrail\b([^._]|$)`)
	script := func(file string) string {
		raw, err := os.ReadFile("../postgres/testdata/" + file)
		if err != nil {
			t.Fatal(err)
		}
		return schemaName.ReplaceAllString(names.Replace(string(raw)), schema+"$1")
	}
	asRole := func(role string) string {
		u, err := url.Parse(os.Getenv(envPostgres))
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.User(role)
		q := u.Query()
		q.Del("search_path") // each role's own, set by roles.sql
		u.RawQuery = q.Encode()
		return u.String()
	}
	exec := func(connURL, sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, connURL)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}

	if err := exec(os.Getenv(envPostgres), script("roles.sql")); err != nil {
		t.Fatalf("roles.sql: %v", err)
	}
	t.Cleanup(func() {
		pgExec(`DROP SCHEMA IF EXISTS ` + schema + ` CASCADE`)
		for _, r := range []string{service, owner} {
			pgExec(`DROP OWNED BY ` + r + ` CASCADE`)
			pgExec(`DROP ROLE IF EXISTS ` + r)
		}
	})
	ownerURL, serviceURL := asRole(owner), asRole(service)

	// Before the migrations, the service role cannot open the database: it
	// says to run them as the owner.
	if _, stderr, code := run(t, "purge", "--db", serviceURL); code == 0 || !strings.Contains(stderr, "owner") {
		t.Fatalf("purge as the service role before the migrations: exit %d, want a failure naming the owner:\n%s", code, stderr)
	}
	// The owner applies the migrations (any command that opens storage does).
	if _, stderr, code := run(t, "purge", "--db", ownerURL); code != 0 {
		t.Fatalf("migrations as the owner: exit %d:\n%s", code, stderr)
	}
	if err := exec(ownerURL, script("grants.sql")); err != nil {
		t.Fatalf("grants.sql: %v", err)
	}

	// The service, as the service role: accounts, records, checkpoints.
	srv := MustStart(t, "--db", serviceURL)
	a := srv.MustAccount(t, "least-privilege", true)
	v, _ := srv.checkpointVerifier(t, a.AdminToken)
	srv.MustRecords(t, a, integrityItems("lp", 20)...)
	if cp := srv.mustCheckpoint(t, a, v); cp.Size < 20 {
		t.Fatalf("checkpoint of size %d, want the 20 records and more", cp.Size)
	}
	srv.Must(t, 200, "PATCH", a.path(""), a.AdminToken, map[string]any{"name": "Renamed"})

	// It cannot change or delete a record itself.
	for _, sql := range []string{
		`UPDATE records SET new_value = 'forged'`,
		`DELETE FROM records`,
		`TRUNCATE records`,
		`UPDATE tree_nodes SET hash = hash`,
		`DELETE FROM checkpoints`,
	} {
		err := exec(serviceURL, sql)
		if err == nil || !strings.Contains(err.Error(), "42501") {
			t.Errorf("%s as the service role: got %v, want permission denied (42501)", sql, err)
		}
	}

	// The purge goes through the owner's function, and verify holds.
	srv.Stop(t)
	time.Sleep(2100 * time.Millisecond)
	stdout, stderr, code := run(t, "purge", "--retention", "2s", "--db", serviceURL)
	if code != 0 {
		t.Fatalf("purge as the service role: exit %d:\n%s%s", code, stdout, stderr)
	}
	if code, named, out := verifyFindings(t, "--account", a.ID, "--db", serviceURL); code != 0 || len(named) != 0 {
		t.Fatalf("verify after the purge: exit %d, findings %v:\n%s", code, named, out)
	}
	if n := srv2Count(t, serviceURL, a); n != 0 {
		t.Errorf("records after purging everything: got %d, want 0", n)
	}
}

// srv2Count starts the service again on url and counts the account's records.
func srv2Count(t *testing.T, url string, a *Account) int {
	t.Helper()
	srv := MustStart(t, "--db", url)
	login := srv.Must(t, 200, "POST", "/api/v1/login", "", map[string]string{"account_id": a.ID, "login_name": "admin", "password": "correct horse battery"}).JSON(t)
	a2 := &Account{ID: a.ID, AdminToken: login["token"].(string)}
	n := srv.Count(t, a2, nil)
	srv.Stop(t)
	return n
}
