package demo_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/demo"
	"github.com/audittrail/audittrail/ingest"
	"github.com/audittrail/audittrail/sqlite"
	"github.com/audittrail/audittrail/store"
	"github.com/audittrail/audittrail/storetest"
)

// MustOpenDB returns a new SQLite store in a temporary directory, closed at
// the end of the test.
func MustOpenDB(tb testing.TB) *store.Store {
	tb.Helper()
	b := sqlite.NewDB(filepath.Join(tb.TempDir(), "audittrail.db"), nil)
	if err := b.Open(); err != nil {
		tb.Fatal(err)
	}
	db := store.New(b)
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

// MustIngester returns an ingester over the built-in catalog with the real clock.
func MustIngester(tb testing.TB) *ingest.Ingester {
	tb.Helper()
	cat, err := audittrail.NewCatalog(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return ingest.New(cat, time.Now)
}

func TestSeed(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		ctx := context.Background()
		db, in := MustOpenDB(t), MustIngester(t)
		now := time.Now()

		start := time.Now()
		created, err := demo.Seed(ctx, db, in, now)
		if err != nil {
			t.Fatal(err)
		} else if !created {
			t.Fatalf("created=%v, want true", created)
		}
		t.Logf("seeded in %s", time.Since(start))

		if created, err := demo.Seed(ctx, db, in, now); err != nil {
			t.Fatal(err)
		} else if created {
			t.Fatalf("second Seed: created=%v, want false", created)
		}

		acct, err := db.FindAccount(ctx, demo.AccountID)
		if err != nil {
			t.Fatal(err)
		}
		if !acct.AuditTrailEnabled || acct.AuditTrailEnabledAt == nil {
			t.Fatalf("audit trail enabled=%v at %v, want enabled", acct.AuditTrailEnabled, acct.AuditTrailEnabledAt)
		}
		if got, want := acct.Timezone, demo.Timezone; got != want {
			t.Fatalf("timezone=%q, want %q", got, want)
		}

		count := func(f audittrail.RecordFilter) int {
			t.Helper()
			f.AccountID = demo.AccountID
			n, err := db.CountRecords(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		total := count(audittrail.RecordFilter{})
		if total <= 10_000 {
			t.Fatalf("got %d records, want more than 10,000", total)
		}
		cat, _ := audittrail.NewCatalog(nil)
		for _, ty := range cat.Types() {
			if ty.Key == audittrail.TypePublisherKeys || ty.Key == audittrail.TypeAccountSettings {
				continue // the service's own types: the platform's history does not touch them
			}
			if n := count(audittrail.RecordFilter{ObjectTypes: []string{ty.Key}}); n == 0 {
				t.Errorf("no record of type %s", ty.Key)
			}
		}
		for _, a := range []string{audittrail.ActionAdd, audittrail.ActionEdit, audittrail.ActionDelete} {
			if n := count(audittrail.RecordFilter{ActionTypes: []string{a}}); n == 0 {
				t.Errorf("no record of action %s", a)
			}
		}
		for _, name := range []string{"System", "Priya Raman", "Daniel Okafor"} {
			if n := count(audittrail.RecordFilter{Originator: name}); n == 0 {
				t.Errorf("no record by %s", name)
			}
		}

		// The history spans more than 12 months, all after the enabling.
		newest, err := db.FindRecords(ctx, audittrail.RecordFilter{AccountID: demo.AccountID, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if d := newest[0].Date; d.After(now) || now.Sub(d) > 7*24*time.Hour {
			t.Fatalf("newest record dated %s, want in the week before %s", audittrail.FormatTime(d), audittrail.FormatTime(now))
		}
		old := newest[0].Date.AddDate(-1, 0, 0)
		if n := count(audittrail.RecordFilter{To: &old}); n == 0 {
			t.Fatalf("no record before %s, want a history over more than 12 months", audittrail.FormatTime(old))
		}
		before := acct.AuditTrailEnabledAt.Add(-time.Millisecond)
		if n := count(audittrail.RecordFilter{To: &before}); n != 0 {
			t.Fatalf("got %d records dated before the audit trail was enabled, want 0", n)
		}
		t.Logf("%d records from %s to %s", total, audittrail.FormatTime(*acct.AuditTrailEnabledAt), audittrail.FormatTime(newest[0].Date))

		// Passwords come out redacted.
		f := audittrail.RecordFilter{AccountID: demo.AccountID, Element: "Password", Limit: audittrail.MaxLimit}
		var passwords int
		for {
			recs, err := db.FindRecords(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				passwords++
				for _, v := range []string{r.OldValue, r.NewValue} {
					if v != "" && v != audittrail.Redacted {
						t.Fatalf("record %s: password value %q, want %q or empty", r.ID, v, audittrail.Redacted)
					}
				}
			}
			if len(recs) < f.Limit {
				break
			}
			f.After = audittrail.CursorOf(recs[len(recs)-1])
		}
		if passwords == 0 {
			t.Fatal("no Password record, want password changes in the history")
		}

		// admin / admin signs in, as an administrator who may see the trail.
		u, err := storetest.FindUserByLogin(ctx, db, demo.AccountID, demo.AdminLogin)
		if err != nil {
			t.Fatal(err)
		}
		if !audittrail.CheckPassword(u.PasswordHash, demo.AdminPassword) {
			t.Fatalf("password %q does not check for %s", demo.AdminPassword, demo.AdminLogin)
		}
		p, err := storetest.FindProfile(ctx, db, demo.AccountID, u.ProfileID)
		if err != nil {
			t.Fatal(err)
		}
		if !p.HasPermission(audittrail.PermissionViewAuditTrail) || p.Role != audittrail.RoleAdministrator {
			t.Fatalf("admin's profile %s (role %s), want the Administrator profile", p.Name, p.Role)
		}
		users, err := storetest.FindUsers(ctx, db, demo.AccountID)
		if err != nil {
			t.Fatal(err)
		}
		if len(users) < 6 {
			t.Fatalf("got %d users, want the administrators and a few agents", len(users))
		}
	})
}
