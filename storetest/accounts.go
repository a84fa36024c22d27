package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
)

func testAccounts(t *testing.T, open OpenFunc) {
	t.Run("OK", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)

		a, err := s.FindAccount(ctx, fx.Account.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkAccount(t, a, fx.Account)
		if a.Name != "Account "+a.ID || a.Timezone != "Europe/Paris" {
			t.Fatalf("account: got %q %q, want %q %q", a.Name, a.Timezone, "Account "+a.ID, "Europe/Paris")
		}
		if a.AuditTrailEnabled || a.AuditTrailEnabledAt != nil {
			t.Fatalf("new account enabled: got %v %v, want false <nil>", a.AuditTrailEnabled, a.AuditTrailEnabledAt)
		}
		checkTime(t, "created_at", a.CreatedAt, clk.Now())

		ps, err := FindProfiles(ctx, s, a.ID)
		if err != nil {
			t.Fatal(err)
		} else if len(ps) != len(fx.Profiles) {
			t.Fatalf("profiles: got %d, want %d", len(ps), len(fx.Profiles))
		}
		u, err := FindUserByLogin(ctx, s, a.ID, "admin")
		if err != nil {
			t.Fatal(err)
		}
		checkUser(t, u, fx.Admin)
		if u.ProfileID != fx.Profiles[0].ID {
			t.Fatalf("admin profile: got %v, want %v", u.ProfileID, fx.Profiles[0].ID)
		}
	})

	t.Run("ErrAlreadyExists", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		id := fx.Account.ID
		profiles := audittrail.BuiltinProfiles(id, clk.Now())
		admin := &audittrail.User{ID: audittrail.NewID("usr_"), AccountID: id, LoginName: "other", Name: "Other", ProfileID: profiles[0].ID, Enabled: true}
		err := s.CreateAccount(ctx, &audittrail.Account{ID: id, Name: "Again", Timezone: "UTC"}, profiles, admin)
		CheckCode(t, err, audittrail.EALREADYEXISTS)

		a, err := s.FindAccount(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		checkAccount(t, a, fx.Account)
		if _, err := FindUserByLogin(ctx, s, id, "other"); audittrail.ErrorCode(err) != audittrail.ENOTFOUND {
			t.Fatalf("user of the refused account: got %v, want not_found", err)
		}
	})

	t.Run("AllOrNothing", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		id := randomID("t-")
		profiles := audittrail.BuiltinProfiles(id, clk.Now())
		// The administrator's profile is not one of the account's.
		admin := &audittrail.User{ID: audittrail.NewID("usr_"), AccountID: id, LoginName: "admin", Name: "Admin", ProfileID: "prf_missing", Enabled: true}
		if err := s.CreateAccount(ctx, &audittrail.Account{ID: id, Name: "Broken", Timezone: "UTC"}, profiles, admin); err == nil {
			t.Fatalf("CreateAccount with an unknown profile: got nil error, want an error")
		}
		_, err := s.FindAccount(ctx, id)
		CheckCode(t, err, audittrail.ENOTFOUND)
		if ps, err := FindProfiles(ctx, s, id); err != nil {
			t.Fatal(err)
		} else if len(ps) != 0 {
			t.Fatalf("profiles of the refused account: got %d, want 0", len(ps))
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s, _ := MustOpen(t, open)
		_, err := s.FindAccount(ctx, "no-such-account")
		CheckCode(t, err, audittrail.ENOTFOUND)
		_, err = UpdateAccount(ctx, s, "no-such-account", audittrail.AccountUpdate{Name: ptr("x")})
		CheckCode(t, err, audittrail.ENOTFOUND)
	})

	t.Run("Update", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		id := fx.Account.ID

		a, err := UpdateAccount(ctx, s, id, audittrail.AccountUpdate{Name: ptr("Renamed")})
		if err != nil {
			t.Fatal(err)
		}
		want := *fx.Account
		want.Name = "Renamed"
		checkAccount(t, a, &want)

		a, err = UpdateAccount(ctx, s, id, audittrail.AccountUpdate{Timezone: ptr("America/New_York")})
		if err != nil {
			t.Fatal(err)
		}
		want.Timezone = "America/New_York"
		checkAccount(t, a, &want)

		// Nothing to change leaves the account as it is.
		if a, err = UpdateAccount(ctx, s, id, audittrail.AccountUpdate{}); err != nil {
			t.Fatal(err)
		}
		checkAccount(t, a, &want)
		if a, err = s.FindAccount(ctx, id); err != nil {
			t.Fatal(err)
		}
		checkAccount(t, a, &want)
	})

	t.Run("FindAccountIDs", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		a := MustCreateAccount(t, s, clk, false).Account.ID
		b := MustCreateAccount(t, s, clk, true).Account.ID
		got, err := s.FindAccountIDs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{a, b} {
			if !slices.Contains(got, id) {
				t.Fatalf("FindAccountIDs: got %v, want it to hold %v", got, id)
			}
		}
	})
}

func testEnablement(t *testing.T, open OpenFunc) {
	s, clk := MustOpen(t, open)
	fx := MustCreateAccount(t, s, clk, false)
	id := fx.Account.ID
	on, off := true, false

	_, err := s.AppendRecords(ctx, id, Entries(NewRecord(clk.Now())))
	CheckCode(t, err, audittrail.EAUDITTRAILDISABLED)

	// Enabling sets the time of enabling to the store's clock.
	clk.Add(time.Hour)
	t1 := clk.Now()
	a, err := UpdateAccount(ctx, s, id, audittrail.AccountUpdate{AuditTrailEnabled: &on})
	if err != nil {
		t.Fatal(err)
	}
	if !a.AuditTrailEnabled {
		t.Fatalf("enabled: got %v, want true", a.AuditTrailEnabled)
	}
	checkTimePtr(t, "audit_trail_enabled_at", a.AuditTrailEnabledAt, &t1)

	// Nothing before it.
	_, err = s.AppendRecords(ctx, id, Entries(NewRecord(t1.Add(-time.Millisecond))))
	CheckCode(t, err, audittrail.EBEFOREENABLED)
	// A batch with one record before it stores nothing.
	_, err = s.AppendRecords(ctx, id, Entries(NewRecord(t1), NewRecord(t1.Add(-time.Hour)), NewRecord(t1)))
	CheckCode(t, err, audittrail.EBEFOREENABLED)
	if rs := MustFindAll(t, s, id); len(rs) != 0 {
		t.Fatalf("records after a refused batch: got %d, want 0", len(rs))
	}
	rs := MustAppend(t, s, id, Entries(NewRecord(t1))...)
	if rs[0].Seq != 0 {
		t.Fatalf("first seq: got %v, want 0", rs[0].Seq)
	}

	// Enabling again while enabled keeps the time.
	clk.Add(time.Hour)
	if a, err = UpdateAccount(ctx, s, id, audittrail.AccountUpdate{AuditTrailEnabled: &on}); err != nil {
		t.Fatal(err)
	}
	checkTimePtr(t, "audit_trail_enabled_at", a.AuditTrailEnabledAt, &t1)

	// Disabling keeps the last time of enabling.
	clk.Add(time.Hour)
	if a, err = UpdateAccount(ctx, s, id, audittrail.AccountUpdate{AuditTrailEnabled: &off}); err != nil {
		t.Fatal(err)
	}
	if a.AuditTrailEnabled {
		t.Fatalf("enabled: got %v, want false", a.AuditTrailEnabled)
	}
	checkTimePtr(t, "audit_trail_enabled_at", a.AuditTrailEnabledAt, &t1)
	_, err = s.AppendRecords(ctx, id, Entries(NewRecord(clk.Now())))
	CheckCode(t, err, audittrail.EAUDITTRAILDISABLED)

	// Enabling again sets a new time: nothing recorded retroactively.
	clk.Add(time.Hour)
	t2 := clk.Now()
	if a, err = UpdateAccount(ctx, s, id, audittrail.AccountUpdate{AuditTrailEnabled: &on}); err != nil {
		t.Fatal(err)
	}
	checkTimePtr(t, "audit_trail_enabled_at", a.AuditTrailEnabledAt, &t2)
	if a, err = s.FindAccount(ctx, id); err != nil {
		t.Fatal(err)
	}
	checkTimePtr(t, "audit_trail_enabled_at", a.AuditTrailEnabledAt, &t2)
	_, err = s.AppendRecords(ctx, id, Entries(NewRecord(t2.Add(-time.Minute))))
	CheckCode(t, err, audittrail.EBEFOREENABLED)
	rs = MustAppend(t, s, id, Entries(NewRecord(t2))...)
	if rs[0].Seq != 1 {
		t.Fatalf("seq after refused appends: got %v, want 1", rs[0].Seq)
	}
}

func checkAccount(tb testing.TB, got, want *audittrail.Account) {
	tb.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.Timezone != want.Timezone || got.AuditTrailEnabled != want.AuditTrailEnabled {
		tb.Fatalf("account: got %+v, want %+v", *got, *want)
	}
	checkTimePtr(tb, "audit_trail_enabled_at", got.AuditTrailEnabledAt, want.AuditTrailEnabledAt)
	checkTime(tb, "created_at", got.CreatedAt, want.CreatedAt)
}
