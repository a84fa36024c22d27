package storetest

import (
	"crypto/rand"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
)

// newHash returns the hash of a new random secret.
func newHash() []byte {
	secret := make([]byte, 32)
	rand.Read(secret)
	h := sha256.Sum256(secret)
	return h[:]
}

// mustCreateKey creates a publisher key of the account and returns it with
// the hash of its secret.
func mustCreateKey(tb testing.TB, s audittrail.Store, accountID, name string) (*audittrail.PublisherKey, []byte) {
	tb.Helper()
	k := &audittrail.PublisherKey{ID: audittrail.NewID("key_"), AccountID: accountID, Name: name, Prefix: "atk_" + name[:1]}
	hash := newHash()
	if err := CreatePublisherKey(ctx, s, k, hash); err != nil {
		tb.Fatalf("CreatePublisherKey: %v", err)
	}
	return k, hash
}

// mustCreateToken creates a token of the user that expires after ttl.
func mustCreateToken(tb testing.TB, s audittrail.Store, clk *Clock, u *audittrail.User, ttl time.Duration) *audittrail.Token {
	tb.Helper()
	tok := &audittrail.Token{Hash: newHash(), AccountID: u.AccountID, UserID: u.ID, CreatedAt: clk.Now(), ExpiresAt: clk.Now().Add(ttl)}
	if err := CreateToken(ctx, s, tok); err != nil {
		tb.Fatalf("CreateToken: %v", err)
	}
	return tok
}

func testPublisherKeys(t *testing.T, open OpenFunc) {
	t.Run("OK", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		id := fx.Account.ID
		k1, _ := mustCreateKey(t, s, id, "crm")
		checkTime(t, "created_at", k1.CreatedAt, clk.Now())
		clk.Add(time.Minute)
		k2, _ := mustCreateKey(t, s, id, "billing")

		ks, err := FindPublisherKeys(ctx, s, id)
		if err != nil {
			t.Fatal(err)
		} else if len(ks) != 2 {
			t.Fatalf("keys: got %d, want 2", len(ks))
		}
		for _, k := range ks {
			want := k1
			if k.ID == k2.ID {
				want = k2
			}
			checkKey(t, k, want)
		}
	})

	t.Run("Revoke", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		id := fx.Account.ID
		k, _ := mustCreateKey(t, s, id, "crm")

		clk.Add(time.Hour)
		revokedAt := clk.Now()
		got, err := RevokePublisherKey(ctx, s, id, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		k.RevokedAt = &revokedAt
		checkKey(t, got, k)
		ks, err := FindPublisherKeys(ctx, s, id)
		if err != nil {
			t.Fatal(err)
		} else if len(ks) != 1 {
			t.Fatalf("keys: got %d, want 1", len(ks))
		}
		checkKey(t, ks[0], k)

		_, err = RevokePublisherKey(ctx, s, id, "key_missing")
		CheckCode(t, err, audittrail.ENOTFOUND)
	})

	t.Run("ErrAlreadyExists", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		_, hash := mustCreateKey(t, s, fx.Account.ID, "crm")
		k := &audittrail.PublisherKey{ID: audittrail.NewID("key_"), AccountID: fx.Account.ID, Name: "again", Prefix: "atk_a"}
		CheckCode(t, CreatePublisherKey(ctx, s, k, hash), audittrail.EALREADYEXISTS)
	})
}

func testAuthenticate(t *testing.T, open OpenFunc) {
	t.Run("PublisherKey", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		k, hash := mustCreateKey(t, s, fx.Account.ID, "crm")

		p, err := s.Authenticate(ctx, hash)
		if err != nil {
			t.Fatal(err)
		}
		if p.Kind != audittrail.PrincipalPublisher || p.AccountID != fx.Account.ID || p.Key == nil || p.User != nil {
			t.Fatalf("principal: got %+v, want a publisher of %v", *p, fx.Account.ID)
		}
		checkKey(t, p.Key, k)

		if _, err := RevokePublisherKey(ctx, s, fx.Account.ID, k.ID); err != nil {
			t.Fatal(err)
		}
		_, err = s.Authenticate(ctx, hash)
		CheckCode(t, err, audittrail.EUNAUTHENTICATED)
	})

	t.Run("Token", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		tok := mustCreateToken(t, s, clk, fx.Admin, time.Hour)

		p, err := s.Authenticate(ctx, tok.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if p.Kind != audittrail.PrincipalUser || p.AccountID != fx.Account.ID || p.User == nil || p.Profile == nil || p.Key != nil {
			t.Fatalf("principal: got %+v, want the user %v", *p, fx.Admin.ID)
		}
		checkUser(t, p.User, fx.Admin)
		checkProfile(t, p.Profile, fx.Profiles[0])
		if !p.Can(audittrail.PermissionViewAuditTrail) || !p.IsAdministrator() {
			t.Fatalf("administrator: got %v %v, want true true", p.Can(audittrail.PermissionViewAuditTrail), p.IsAdministrator())
		}

		// The profile is read at each authentication.
		u := *fx.Admin
		u.ProfileID = fx.Profiles[3].ID
		if err := UpdateUser(ctx, s, &u); err != nil {
			t.Fatal(err)
		}
		if p, err = s.Authenticate(ctx, tok.Hash); err != nil {
			t.Fatal(err)
		} else if p.Profile.ID != fx.Profiles[3].ID || p.Can(audittrail.PermissionViewAuditTrail) {
			t.Fatalf("profile after a change: got %v, want %v", p.Profile.ID, fx.Profiles[3].ID)
		}
	})

	t.Run("ErrExpired", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		tok := mustCreateToken(t, s, clk, fx.Admin, time.Hour)
		clk.Add(time.Hour - time.Millisecond)
		if _, err := s.Authenticate(ctx, tok.Hash); err != nil {
			t.Fatalf("just before expiry: %v", err)
		}
		clk.Add(2 * time.Millisecond)
		_, err := s.Authenticate(ctx, tok.Hash)
		CheckCode(t, err, audittrail.EUNAUTHENTICATED)
	})

	t.Run("ErrUserDisabled", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		tok := mustCreateToken(t, s, clk, fx.Admin, time.Hour)
		u := *fx.Admin
		u.Enabled = false
		if err := UpdateUser(ctx, s, &u); err != nil {
			t.Fatal(err)
		}
		_, err := s.Authenticate(ctx, tok.Hash)
		CheckCode(t, err, audittrail.EUNAUTHENTICATED)

		u.Enabled = true
		if err := UpdateUser(ctx, s, &u); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, tok.Hash); err != nil {
			t.Fatalf("enabled again: %v", err)
		}
	})

	t.Run("ErrUserDeleted", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		u := &audittrail.User{ID: audittrail.NewID("usr_"), AccountID: fx.Account.ID, LoginName: "bob", Name: "Bob", ProfileID: fx.Profiles[0].ID, Enabled: true}
		if err := CreateUser(ctx, s, u); err != nil {
			t.Fatal(err)
		}
		tok := mustCreateToken(t, s, clk, u, time.Hour)
		if err := DeleteUser(ctx, s, fx.Account.ID, u.ID); err != nil {
			t.Fatal(err)
		}
		_, err := s.Authenticate(ctx, tok.Hash)
		CheckCode(t, err, audittrail.EUNAUTHENTICATED)

		// A new user of the same id does not inherit the deleted user's tokens.
		if err := CreateUser(ctx, s, u); err != nil {
			t.Fatal(err)
		}
		_, err = s.Authenticate(ctx, tok.Hash)
		CheckCode(t, err, audittrail.EUNAUTHENTICATED)
	})

	t.Run("DeleteToken", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		tok := mustCreateToken(t, s, clk, fx.Admin, time.Hour)
		other := mustCreateToken(t, s, clk, fx.Admin, time.Hour)
		if err := DeleteToken(ctx, s, fx.Account.ID, tok.Hash); err != nil {
			t.Fatal(err)
		}
		_, err := s.Authenticate(ctx, tok.Hash)
		CheckCode(t, err, audittrail.EUNAUTHENTICATED)
		if _, err := s.Authenticate(ctx, other.Hash); err != nil {
			t.Fatalf("the user's other token: %v", err)
		}
		if err := DeleteToken(ctx, s, fx.Account.ID, tok.Hash); err != nil {
			t.Fatalf("deleting an unknown token: got %v, want nil", err)
		}
	})

	t.Run("DeleteUserTokens", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, false)
		other := MustCreateAccount(t, s, clk, false)
		bob := &audittrail.User{ID: audittrail.NewID("usr_"), AccountID: fx.Account.ID, LoginName: "bob", Name: "Bob", ProfileID: fx.Profiles[0].ID, Enabled: true}
		if err := CreateUser(ctx, s, bob); err != nil {
			t.Fatal(err)
		}
		tok1 := mustCreateToken(t, s, clk, fx.Admin, time.Hour)
		tok2 := mustCreateToken(t, s, clk, fx.Admin, time.Hour)
		bobs := mustCreateToken(t, s, clk, bob, time.Hour)
		others := mustCreateToken(t, s, clk, other.Admin, time.Hour)

		// Scoped by the account: the id of a user of another account ends nothing.
		if err := DeleteUserTokens(ctx, s, other.Account.ID, fx.Admin.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, tok1.Hash); err != nil {
			t.Fatalf("after a delete in another account: %v", err)
		}

		if err := DeleteUserTokens(ctx, s, fx.Account.ID, fx.Admin.ID); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []*audittrail.Token{tok1, tok2} {
			_, err := s.Authenticate(ctx, tok.Hash)
			CheckCode(t, err, audittrail.EUNAUTHENTICATED)
		}
		for _, tok := range []*audittrail.Token{bobs, others} {
			if _, err := s.Authenticate(ctx, tok.Hash); err != nil {
				t.Fatalf("another user's token: %v", err)
			}
		}
		// A user without tokens, or an unknown one, is not an error.
		if err := DeleteUserTokens(ctx, s, fx.Account.ID, fx.Admin.ID); err != nil {
			t.Fatalf("again: %v", err)
		}
		if err := DeleteUserTokens(ctx, s, fx.Account.ID, "usr_missing"); err != nil {
			t.Fatalf("unknown user: %v", err)
		}
		// A new token of the user works.
		tok3 := mustCreateToken(t, s, clk, fx.Admin, time.Hour)
		if _, err := s.Authenticate(ctx, tok3.Hash); err != nil {
			t.Fatalf("a new token: %v", err)
		}
	})

	t.Run("ErrUnknown", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		MustCreateAccount(t, s, clk, false)
		for _, hash := range [][]byte{newHash(), {}, nil} {
			_, err := s.Authenticate(ctx, hash)
			CheckCode(t, err, audittrail.EUNAUTHENTICATED)
		}
	})
}

func checkKey(tb testing.TB, got, want *audittrail.PublisherKey) {
	tb.Helper()
	if got.ID != want.ID || got.AccountID != want.AccountID || got.Name != want.Name || got.Prefix != want.Prefix || got.Key != "" {
		tb.Fatalf("publisher key: got %+v, want %+v without its secret", *got, *want)
	}
	checkTime(tb, "key created_at", got.CreatedAt, want.CreatedAt)
	checkTimePtr(tb, "key revoked_at", got.RevokedAt, want.RevokedAt)
}
