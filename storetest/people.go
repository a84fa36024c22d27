package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
)

func testProfiles(t *testing.T, open OpenFunc) {
	newProfile := func(accountID, name string) *audittrail.Profile {
		return &audittrail.Profile{ID: audittrail.NewID("prf_"), AccountID: accountID, Name: name, Description: "Reads the trail",
			Role: audittrail.RoleAdministrator, Permissions: []string{audittrail.PermissionViewAuditTrail}}
	}

	t.Run("OK", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		id := fx.Account.ID

		clk.Add(time.Minute)
		p := newProfile(id, "Auditors")
		if err := CreateProfile(ctx, s, p); err != nil {
			t.Fatal(err)
		}
		checkTime(t, "created_at", p.CreatedAt, clk.Now())
		checkTime(t, "updated_at", p.UpdatedAt, clk.Now())
		got, err := FindProfile(ctx, s, id, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkProfile(t, got, p)

		ps, err := FindProfiles(ctx, s, id)
		if err != nil {
			t.Fatal(err)
		} else if len(ps) != len(fx.Profiles)+1 {
			t.Fatalf("profiles: got %d, want %d", len(ps), len(fx.Profiles)+1)
		}
		for _, want := range append(fx.Profiles, p) {
			i := slices.IndexFunc(ps, func(q *audittrail.Profile) bool { return q.ID == want.ID })
			if i < 0 {
				t.Fatalf("FindProfiles: got no profile %v, want one", want.ID)
			}
			checkProfile(t, ps[i], want)
		}
	})

	t.Run("ErrAlreadyExists", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		err := CreateProfile(ctx, s, newProfile(fx.Account.ID, "Administrator"))
		CheckCode(t, err, audittrail.EALREADYEXISTS)

		// The same name in another account is another profile.
		other := MustCreateAccount(t, s, clk, false)
		if err := CreateProfile(ctx, s, newProfile(other.Account.ID, "Auditors")); err != nil {
			t.Fatal(err)
		}
		if err := CreateProfile(ctx, s, newProfile(fx.Account.ID, "Auditors")); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ErrAccountNotFound", func(t *testing.T) {
		s, _ := MustOpen(t, open)
		if err := CreateProfile(ctx, s, newProfile("no-such-account", "Auditors")); err == nil {
			t.Fatalf("CreateProfile in an unknown account: got nil error, want an error")
		}
	})

	t.Run("Update", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		id := fx.Account.ID
		p := newProfile(id, "Auditors")
		if err := CreateProfile(ctx, s, p); err != nil {
			t.Fatal(err)
		}
		created := p.CreatedAt

		clk.Add(time.Hour)
		p.Name, p.Description, p.Role, p.Permissions = "Managers", "Manage agents", audittrail.RoleAgentManager, []string{}
		if err := UpdateProfile(ctx, s, p); err != nil {
			t.Fatal(err)
		}
		checkTime(t, "updated_at", p.UpdatedAt, clk.Now())
		got, err := FindProfile(ctx, s, id, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkProfile(t, got, p)
		checkTime(t, "created_at", got.CreatedAt, created)

		p.Name = "Agent"
		CheckCode(t, UpdateProfile(ctx, s, p), audittrail.EALREADYEXISTS)
		if got, err = FindProfile(ctx, s, id, p.ID); err != nil {
			t.Fatal(err)
		} else if got.Name != "Managers" {
			t.Fatalf("name after a refused update: got %v, want %v", got.Name, "Managers")
		}

		missing := newProfile(id, "Missing")
		CheckCode(t, UpdateProfile(ctx, s, missing), audittrail.ENOTFOUND)
	})

	t.Run("Delete", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		id := fx.Account.ID
		p := newProfile(id, "Auditors")
		if err := CreateProfile(ctx, s, p); err != nil {
			t.Fatal(err)
		}
		if err := DeleteProfile(ctx, s, id, p.ID); err != nil {
			t.Fatal(err)
		}
		_, err := FindProfile(ctx, s, id, p.ID)
		CheckCode(t, err, audittrail.ENOTFOUND)
		CheckCode(t, DeleteProfile(ctx, s, id, p.ID), audittrail.ENOTFOUND)
	})

	t.Run("ErrConflict", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		id := fx.Account.ID
		agent := fx.Profiles[3]
		for _, login := range []string{"a1", "a2"} {
			u := &audittrail.User{ID: audittrail.NewID("usr_"), AccountID: id, LoginName: login, Name: login, ProfileID: agent.ID, Enabled: true}
			if err := CreateUser(ctx, s, u); err != nil {
				t.Fatal(err)
			}
		}
		err := DeleteProfile(ctx, s, id, agent.ID)
		CheckCode(t, err, audittrail.ECONFLICT)
		if msg := audittrail.ErrorMessage(err); !strings.Contains(msg, "2 users") {
			t.Fatalf("message: got %q, want it to say how many users hold the profile (2 users)", msg)
		}
		if _, err := FindProfile(ctx, s, id, agent.ID); err != nil {
			t.Fatalf("profile after a refused delete: %v", err)
		}
	})
}

func testUsers(t *testing.T, open OpenFunc) {
	newUser := func(fx *Fixture, login string) *audittrail.User {
		return &audittrail.User{ID: audittrail.NewID("usr_"), AccountID: fx.Account.ID, LoginName: login, Name: "Name of " + login,
			Email: login + "@example.com", ProfileID: fx.Profiles[1].ID, Enabled: true, PasswordHash: "$2a$10$hash-of-" + login}
	}

	t.Run("OK", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		clk.Add(time.Minute)
		u := newUser(fx, "bob")
		if err := CreateUser(ctx, s, u); err != nil {
			t.Fatal(err)
		}
		checkTime(t, "created_at", u.CreatedAt, clk.Now())
		checkTime(t, "updated_at", u.UpdatedAt, clk.Now())

		got, err := FindUser(ctx, s, fx.Account.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkUser(t, got, u)
		if got, err = FindUserByLogin(ctx, s, fx.Account.ID, "bob"); err != nil {
			t.Fatal(err)
		}
		checkUser(t, got, u)

		us, err := FindUsers(ctx, s, fx.Account.ID)
		if err != nil {
			t.Fatal(err)
		} else if len(us) != 2 {
			t.Fatalf("users: got %d, want 2", len(us))
		}
		for _, want := range []*audittrail.User{fx.Admin, u} {
			i := slices.IndexFunc(us, func(v *audittrail.User) bool { return v.ID == want.ID })
			if i < 0 {
				t.Fatalf("FindUsers: got no user %v, want one", want.ID)
			}
			checkUser(t, us[i], want)
		}
	})

	t.Run("ErrAlreadyExists", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		CheckCode(t, CreateUser(ctx, s, newUser(fx, "admin")), audittrail.EALREADYEXISTS)

		// The same login name in another account is another user.
		other := MustCreateAccount(t, s, clk, false)
		if err := CreateUser(ctx, s, newUser(other, "bob")); err != nil {
			t.Fatal(err)
		}
		if err := CreateUser(ctx, s, newUser(fx, "bob")); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ErrProfileOfAnotherAccount", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		other := MustCreateAccount(t, s, clk, false)
		u := newUser(fx, "bob")
		u.ProfileID = other.Profiles[0].ID
		if err := CreateUser(ctx, s, u); err == nil {
			t.Fatalf("CreateUser with another account's profile: got nil error, want an error")
		}
		_, err := FindUserByLogin(ctx, s, fx.Account.ID, "bob")
		CheckCode(t, err, audittrail.ENOTFOUND)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		_, err := FindUser(ctx, s, fx.Account.ID, "usr_missing")
		CheckCode(t, err, audittrail.ENOTFOUND)
		_, err = FindUserByLogin(ctx, s, fx.Account.ID, "nobody")
		CheckCode(t, err, audittrail.ENOTFOUND)
		CheckCode(t, UpdateUser(ctx, s, newUser(fx, "nobody")), audittrail.ENOTFOUND)
		CheckCode(t, DeleteUser(ctx, s, fx.Account.ID, "usr_missing"), audittrail.ENOTFOUND)
	})

	t.Run("Update", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		u := newUser(fx, "bob")
		if err := CreateUser(ctx, s, u); err != nil {
			t.Fatal(err)
		}
		created := u.CreatedAt

		clk.Add(time.Hour)
		u.LoginName, u.Name, u.Email, u.ProfileID, u.Enabled, u.PasswordHash = "robert", "Robert", "robert@example.com", fx.Profiles[2].ID, false, "$2a$10$new"
		if err := UpdateUser(ctx, s, u); err != nil {
			t.Fatal(err)
		}
		checkTime(t, "updated_at", u.UpdatedAt, clk.Now())
		got, err := FindUser(ctx, s, fx.Account.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkUser(t, got, u)
		checkTime(t, "created_at", got.CreatedAt, created)
		_, err = FindUserByLogin(ctx, s, fx.Account.ID, "bob")
		CheckCode(t, err, audittrail.ENOTFOUND)

		u.LoginName = "admin"
		CheckCode(t, UpdateUser(ctx, s, u), audittrail.EALREADYEXISTS)
		if got, err = FindUser(ctx, s, fx.Account.ID, u.ID); err != nil {
			t.Fatal(err)
		} else if got.LoginName != "robert" {
			t.Fatalf("login name after a refused update: got %v, want %v", got.LoginName, "robert")
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		u := newUser(fx, "bob")
		if err := CreateUser(ctx, s, u); err != nil {
			t.Fatal(err)
		}
		if err := DeleteUser(ctx, s, fx.Account.ID, u.ID); err != nil {
			t.Fatal(err)
		}
		_, err := FindUser(ctx, s, fx.Account.ID, u.ID)
		CheckCode(t, err, audittrail.ENOTFOUND)
		CheckCode(t, DeleteUser(ctx, s, fx.Account.ID, u.ID), audittrail.ENOTFOUND)
		// The login name is free again.
		if err := CreateUser(ctx, s, newUser(fx, "bob")); err != nil {
			t.Fatal(err)
		}
	})
}

func checkProfile(tb testing.TB, got, want *audittrail.Profile) {
	tb.Helper()
	if got.ID != want.ID || got.AccountID != want.AccountID || got.Name != want.Name || got.Description != want.Description ||
		got.Role != want.Role || got.BuiltIn != want.BuiltIn || !slices.Equal(got.Permissions, want.Permissions) {
		tb.Fatalf("profile: got %+v, want %+v", *got, *want)
	}
	checkTime(tb, "profile created_at", got.CreatedAt, want.CreatedAt)
	checkTime(tb, "profile updated_at", got.UpdatedAt, want.UpdatedAt)
}

func checkUser(tb testing.TB, got, want *audittrail.User) {
	tb.Helper()
	if got.ID != want.ID || got.AccountID != want.AccountID || got.LoginName != want.LoginName || got.Name != want.Name ||
		got.Email != want.Email || got.ProfileID != want.ProfileID || got.Enabled != want.Enabled || got.PasswordHash != want.PasswordHash {
		tb.Fatalf("user: got %+v, want %+v", *got, *want)
	}
	checkTime(tb, "user created_at", got.CreatedAt, want.CreatedAt)
	checkTime(tb, "user updated_at", got.UpdatedAt, want.UpdatedAt)
}
