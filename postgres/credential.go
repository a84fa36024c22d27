package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/audittrail/audittrail"
	"github.com/jackc/pgx/v5"
)

// CreatePublisherKey stores k, without its secret, and hash, the hash of
// its secret. It sets k's id if empty and its created time to the store's
// clock; a new key is not revoked. Returns ENOTFOUND for an unknown account,
// EALREADYEXISTS for a hash already stored.
func (db *DB) CreatePublisherKey(ctx context.Context, k *audittrail.PublisherKey, hash []byte, audit ...audittrail.Entry) error {
	return db.write(ctx, func(tx *txn) error {
		acct, err := lockAccount(tx, k.AccountID)
		if err != nil {
			return err
		}
		if k.ID == "" {
			k.ID = audittrail.NewID("key_")
		}
		k.CreatedAt, k.RevokedAt = tx.now, nil
		_, err = tx.exec(`
			INSERT INTO publisher_keys (account_id, id, name, prefix, hash, created_at, revoked_at)
			VALUES ($1, $2, $3, $4, $5, $6, NULL)`,
			k.AccountID, k.ID, k.Name, k.Prefix, hash, k.CreatedAt)
		if err := translate(err, "", "this publisher key already exists"); err != nil {
			return err
		}
		return appendAudit(tx, acct, audit)
	})
}

// FindPublisherKeys returns the keys of an account, revoked ones included,
// oldest first; none for an unknown account.
func (db *DB) FindPublisherKeys(ctx context.Context, accountID string) (ks []*audittrail.PublisherKey, err error) {
	err = db.read(ctx, func(tx *txn) error {
		rows, err := tx.query(`SELECT `+keyColumns+` FROM publisher_keys WHERE account_id = $1 ORDER BY created_at, id COLLATE "C"`, accountID)
		if err != nil {
			return err
		}
		ks, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*audittrail.PublisherKey, error) { return scanKey(row) })
		return err
	})
	return ks, err
}

// RevokePublisherKey marks the key revoked at the store's clock and returns
// it. Revoking a revoked key keeps its first revocation time. Returns
// ENOTFOUND.
func (db *DB) RevokePublisherKey(ctx context.Context, accountID, id string, audit ...audittrail.Entry) (k *audittrail.PublisherKey, err error) {
	err = db.write(ctx, func(tx *txn) error {
		acct, err := lockAccount(tx, accountID)
		if err != nil {
			return err
		}
		k, err = scanKey(tx.queryRow(`
			UPDATE publisher_keys SET revoked_at = COALESCE(revoked_at, $1)
			WHERE account_id = $2 AND id = $3
			RETURNING `+keyColumns,
			tx.now, accountID, id))
		if err := translate(err, fmt.Sprintf("publisher key %s not found", id), ""); err != nil {
			return err
		}
		return appendAudit(tx, acct, audit)
	})
	return k, err
}

const keyColumns = `account_id, id, name, prefix, created_at, revoked_at`

func scanKey(row pgx.Row) (*audittrail.PublisherKey, error) {
	var k audittrail.PublisherKey
	if err := row.Scan(&k.AccountID, &k.ID, &k.Name, &k.Prefix, &k.CreatedAt, &k.RevokedAt); err != nil {
		return nil, err
	}
	k.CreatedAt, k.RevokedAt = utc(k.CreatedAt), utcPtr(k.RevokedAt)
	return &k, nil
}

// CreateToken stores t, setting its created time to the store's clock if
// zero. Returns ENOTFOUND for an unknown user, EALREADYEXISTS for a hash
// already stored.
func (db *DB) CreateToken(ctx context.Context, t *audittrail.Token) error {
	return db.write(ctx, func(tx *txn) error {
		if _, err := findUser(tx, t.AccountID, t.UserID); err != nil {
			return err
		}
		if t.CreatedAt.IsZero() {
			t.CreatedAt = tx.now
		}
		t.CreatedAt, t.ExpiresAt = audittrail.TruncateTime(t.CreatedAt), audittrail.TruncateTime(t.ExpiresAt)
		_, err := tx.exec(`
			INSERT INTO tokens (hash, account_id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			t.Hash, t.AccountID, t.UserID, t.CreatedAt, t.ExpiresAt)
		// A foreign key violation: the user was deleted meanwhile.
		return translate(err, userNotFound(t.UserID), "this token already exists")
	})
}

// DeleteToken removes a token; deleting an unknown token is not an error.
func (db *DB) DeleteToken(ctx context.Context, hash []byte) error {
	return db.write(ctx, func(tx *txn) error {
		_, err := tx.exec(`DELETE FROM tokens WHERE hash = $1`, hash)
		return err
	})
}

// Authenticate returns the principal behind a credential's hash: a publisher
// key that is not revoked, or else a token that has not expired (at the
// store's clock) of an enabled user, with the user's profile as it is now.
// Returns EUNAUTHENTICATED otherwise.
//
// The hash alone finds the credential, and the credential names its
// account: this is the one lookup not scoped by an account.
func (db *DB) Authenticate(ctx context.Context, hash []byte) (p *audittrail.Principal, err error) {
	err = db.read(ctx, func(tx *txn) error {
		p, err = authenticate(tx, hash)
		return err
	})
	return p, err
}

func authenticate(tx *txn, hash []byte) (*audittrail.Principal, error) {
	unauthenticated := audittrail.Errorf(audittrail.EUNAUTHENTICATED, "the credential is unknown, revoked or expired; sign in again or use a valid publisher key")
	if len(hash) == 0 {
		return nil, unauthenticated
	}

	k, err := scanKey(tx.queryRow(`SELECT `+keyColumns+` FROM publisher_keys WHERE hash = $1 AND revoked_at IS NULL`, hash))
	if err == nil {
		return &audittrail.Principal{Kind: audittrail.PrincipalPublisher, AccountID: k.AccountID, Key: k}, nil
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}

	// The token, its user and the user's profile, in one statement: every
	// request authenticates.
	var u audittrail.User
	var pr audittrail.Profile
	err = tx.queryRow(`
		SELECT u.account_id, u.id, u.login_name, u.name, u.email, u.profile_id, u.enabled, u.password_hash, u.created_at, u.updated_at,
			p.id, p.name, p.description, p.role, p.permissions, p.built_in, p.created_at, p.updated_at
		FROM tokens t
		JOIN users u ON u.account_id = t.account_id AND u.id = t.user_id
		JOIN profiles p ON p.account_id = u.account_id AND p.id = u.profile_id
		WHERE t.hash = $1 AND t.expires_at > $2 AND u.enabled`, hash, tx.now).Scan(
		&u.AccountID, &u.ID, &u.LoginName, &u.Name, &u.Email, &u.ProfileID, &u.Enabled, &u.PasswordHash, &u.CreatedAt, &u.UpdatedAt,
		&pr.ID, &pr.Name, &pr.Description, &pr.Role, &pr.Permissions, &pr.BuiltIn, &pr.CreatedAt, &pr.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, unauthenticated
	} else if err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = utc(u.CreatedAt), utc(u.UpdatedAt)
	pr.AccountID, pr.CreatedAt, pr.UpdatedAt = u.AccountID, utc(pr.CreatedAt), utc(pr.UpdatedAt)
	if pr.Permissions == nil {
		pr.Permissions = []string{}
	}
	return &audittrail.Principal{Kind: audittrail.PrincipalUser, AccountID: u.AccountID, User: &u, Profile: &pr}, nil
}
