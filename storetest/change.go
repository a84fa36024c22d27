package storetest

import (
	"context"
	"time"

	"github.com/audittrail/audittrail"
)

// The functions below make the changes that the service makes, through
// Store.Change and Store.View, as the tests need them: each is one change
// of the account and, when audit is given, its trail.

// View returns what fn reads in a read transaction of s.
func View[T any](ctx context.Context, s audittrail.Store, fn func(audittrail.Tx) (T, error)) (v T, err error) {
	err = s.View(ctx, func(tx audittrail.Tx) error {
		v, err = fn(tx)
		return err
	})
	return v, err
}

// UpdateAccount applies upd to the account and returns it as stored.
// Turning the audit trail on when it is off sets its enabling time to the
// transaction's clock; turning it off, or on again while on, keeps the last
// enabling time.
func UpdateAccount(ctx context.Context, s audittrail.Store, id string, upd audittrail.AccountUpdate, audit ...audittrail.Entry) (a *audittrail.Account, err error) {
	err = s.Change(ctx, id, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
		if a, err = tx.FindAccount(id); err != nil {
			return nil, err
		}
		if upd.Name != nil {
			a.Name = *upd.Name
		}
		if upd.Timezone != nil {
			a.Timezone = *upd.Timezone
		}
		if upd.AuditTrailEnabled != nil {
			if *upd.AuditTrailEnabled && !a.AuditTrailEnabled {
				now := tx.Now()
				a.AuditTrailEnabledAt = &now
			}
			a.AuditTrailEnabled = *upd.AuditTrailEnabled
		}
		return audit, tx.UpdateAccount(a)
	})
	return a, err
}

// change runs write in a Change of the account and returns audit.
func change(ctx context.Context, s audittrail.Store, accountID string, audit []audittrail.Entry, write func(audittrail.Tx) error) error {
	return s.Change(ctx, accountID, func(tx audittrail.Tx) ([]audittrail.Entry, error) { return audit, write(tx) })
}

// CreateProfile stores p in its account.
func CreateProfile(ctx context.Context, s audittrail.Store, p *audittrail.Profile, audit ...audittrail.Entry) error {
	return change(ctx, s, p.AccountID, audit, func(tx audittrail.Tx) error { return tx.CreateProfile(p) })
}

// UpdateProfile stores p.
func UpdateProfile(ctx context.Context, s audittrail.Store, p *audittrail.Profile, audit ...audittrail.Entry) error {
	return change(ctx, s, p.AccountID, audit, func(tx audittrail.Tx) error { return tx.UpdateProfile(p) })
}

// DeleteProfile deletes a profile.
func DeleteProfile(ctx context.Context, s audittrail.Store, accountID, id string, audit ...audittrail.Entry) error {
	return change(ctx, s, accountID, audit, func(tx audittrail.Tx) error { return tx.DeleteProfile(accountID, id) })
}

// CreateUser stores u in its account.
func CreateUser(ctx context.Context, s audittrail.Store, u *audittrail.User, audit ...audittrail.Entry) error {
	return change(ctx, s, u.AccountID, audit, func(tx audittrail.Tx) error { return tx.CreateUser(u) })
}

// UpdateUser stores u.
func UpdateUser(ctx context.Context, s audittrail.Store, u *audittrail.User, audit ...audittrail.Entry) error {
	return change(ctx, s, u.AccountID, audit, func(tx audittrail.Tx) error { return tx.UpdateUser(u) })
}

// DeleteUser deletes a user and their tokens.
func DeleteUser(ctx context.Context, s audittrail.Store, accountID, id string, audit ...audittrail.Entry) error {
	return change(ctx, s, accountID, audit, func(tx audittrail.Tx) error { return tx.DeleteUser(accountID, id) })
}

// CreatePublisherKey stores k and the hash of its secret.
func CreatePublisherKey(ctx context.Context, s audittrail.Store, k *audittrail.PublisherKey, hash []byte, audit ...audittrail.Entry) error {
	return change(ctx, s, k.AccountID, audit, func(tx audittrail.Tx) error { return tx.CreatePublisherKey(k, hash) })
}

// RevokePublisherKey revokes a key as of the transaction's clock and
// returns it.
func RevokePublisherKey(ctx context.Context, s audittrail.Store, accountID, id string, audit ...audittrail.Entry) (k *audittrail.PublisherKey, err error) {
	err = change(ctx, s, accountID, audit, func(tx audittrail.Tx) error {
		if err := tx.RevokePublisherKey(accountID, id, tx.Now()); err != nil {
			return err
		}
		k, err = tx.FindPublisherKey(accountID, id)
		return err
	})
	return k, err
}

// CreateToken stores t.
func CreateToken(ctx context.Context, s audittrail.Store, t *audittrail.Token) error {
	return change(ctx, s, t.AccountID, nil, func(tx audittrail.Tx) error { return tx.CreateToken(t) })
}

// DeleteToken deletes a token of the account.
func DeleteToken(ctx context.Context, s audittrail.Store, accountID string, hash []byte) error {
	return change(ctx, s, accountID, nil, func(tx audittrail.Tx) error { return tx.DeleteToken(hash) })
}

// DeleteUserTokens deletes every token of a user of the account.
func DeleteUserTokens(ctx context.Context, s audittrail.Store, accountID, userID string) error {
	return change(ctx, s, accountID, nil, func(tx audittrail.Tx) error { return tx.DeleteUserTokens(accountID, userID) })
}

// FindProfiles returns the profiles of an account.
func FindProfiles(ctx context.Context, s audittrail.Store, accountID string) ([]*audittrail.Profile, error) {
	return View(ctx, s, func(tx audittrail.Tx) ([]*audittrail.Profile, error) { return tx.FindProfiles(accountID) })
}

// FindProfile returns a profile.
func FindProfile(ctx context.Context, s audittrail.Store, accountID, id string) (*audittrail.Profile, error) {
	return View(ctx, s, func(tx audittrail.Tx) (*audittrail.Profile, error) { return tx.FindProfile(accountID, id) })
}

// FindUsers returns the users of an account.
func FindUsers(ctx context.Context, s audittrail.Store, accountID string) ([]*audittrail.User, error) {
	return View(ctx, s, func(tx audittrail.Tx) ([]*audittrail.User, error) { return tx.FindUsers(accountID) })
}

// FindUser returns a user.
func FindUser(ctx context.Context, s audittrail.Store, accountID, id string) (*audittrail.User, error) {
	return View(ctx, s, func(tx audittrail.Tx) (*audittrail.User, error) { return tx.FindUser(accountID, id) })
}

// FindUserByLogin returns the user of a login name.
func FindUserByLogin(ctx context.Context, s audittrail.Store, accountID, login string) (*audittrail.User, error) {
	return View(ctx, s, func(tx audittrail.Tx) (*audittrail.User, error) { return tx.FindUserByLogin(accountID, login) })
}

// FindPublisherKeys returns the publisher keys of an account.
func FindPublisherKeys(ctx context.Context, s audittrail.Store, accountID string) ([]*audittrail.PublisherKey, error) {
	return View(ctx, s, func(tx audittrail.Tx) ([]*audittrail.PublisherKey, error) { return tx.FindPublisherKeys(accountID) })
}

// EnableAuditTrailAt enables the account's audit trail as of at, which may
// be in the past (what demo.Seed does, to create a year of history).
func EnableAuditTrailAt(ctx context.Context, s audittrail.Store, accountID string, at time.Time) error {
	return change(ctx, s, accountID, nil, func(tx audittrail.Tx) error {
		a, err := tx.FindAccount(accountID)
		if err != nil {
			return err
		}
		at := audittrail.TruncateTime(at)
		a.AuditTrailEnabled, a.AuditTrailEnabledAt = true, &at
		return tx.UpdateAccount(a)
	})
}
