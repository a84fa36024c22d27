package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/audittrail/audittrail"
)

// CreatePublisherKey stores k, without its secret, and hash, the hash of
// its secret. It sets k's id if empty and its created time to the store's
// clock; a new key is not revoked. Returns ENOTFOUND for an unknown account,
// EALREADYEXISTS for a hash already stored.
func (db *DB) CreatePublisherKey(ctx context.Context, k *audittrail.PublisherKey, hash []byte, audit ...audittrail.Entry) error {
	return db.write(ctx, func(tx *txn) error {
		acct, err := findAccount(tx, k.AccountID)
		if err != nil {
			return err
		}
		if k.ID == "" {
			k.ID = audittrail.NewID("key_")
		}
		k.CreatedAt, k.RevokedAt = tx.now, nil
		_, err = tx.exec(`
			INSERT INTO publisher_keys (account_id, id, name, prefix, hash, created_at, revoked_at)
			VALUES (?, ?, ?, ?, ?, ?, NULL)`,
			k.AccountID, k.ID, k.Name, k.Prefix, hash, ms(k.CreatedAt))
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
		rows, err := tx.query(`SELECT `+keyColumns+` FROM publisher_keys WHERE account_id = ? ORDER BY created_at, id`, accountID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			k, err := scanKey(rows)
			if err != nil {
				return err
			}
			ks = append(ks, k)
		}
		return rows.Err()
	})
	return ks, err
}

// RevokePublisherKey marks the key revoked at the store's clock and returns
// it. Revoking a revoked key keeps its first revocation time. Returns
// ENOTFOUND.
func (db *DB) RevokePublisherKey(ctx context.Context, accountID, id string, audit ...audittrail.Entry) (k *audittrail.PublisherKey, err error) {
	err = db.write(ctx, func(tx *txn) error {
		k, err = scanKey(tx.queryRow(`
			UPDATE publisher_keys SET revoked_at = COALESCE(revoked_at, ?)
			WHERE account_id = ? AND id = ?
			RETURNING `+keyColumns,
			ms(tx.now), accountID, id))
		if err := translate(err, fmt.Sprintf("publisher key %s not found", id), ""); err != nil {
			return err
		}
		return auditAccount(tx, accountID, audit)
	})
	return k, err
}

const keyColumns = `account_id, id, name, prefix, created_at, revoked_at`

func scanKey(row scanner) (*audittrail.PublisherKey, error) {
	var k audittrail.PublisherKey
	var createdAt int64
	var revokedAt sql.NullInt64
	if err := row.Scan(&k.AccountID, &k.ID, &k.Name, &k.Prefix, &createdAt, &revokedAt); err != nil {
		return nil, err
	}
	k.CreatedAt, k.RevokedAt = fromMS(createdAt), fromNullMS(revokedAt)
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
			INSERT INTO tokens (hash, account_id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			t.Hash, t.AccountID, t.UserID, ms(t.CreatedAt), ms(t.ExpiresAt))
		return translate(err, "", "this token already exists")
	})
}

// DeleteToken removes a token; deleting an unknown token is not an error.
func (db *DB) DeleteToken(ctx context.Context, hash []byte) error {
	return db.write(ctx, func(tx *txn) error {
		_, err := tx.exec(`DELETE FROM tokens WHERE hash = ?`, hash)
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

	k, err := scanKey(tx.queryRow(`SELECT `+keyColumns+` FROM publisher_keys WHERE hash = ? AND revoked_at IS NULL`, hash))
	if err == nil {
		return &audittrail.Principal{Kind: audittrail.PrincipalPublisher, AccountID: k.AccountID, Key: k}, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}

	var accountID, userID string
	err = tx.queryRow(`SELECT account_id, user_id FROM tokens WHERE hash = ? AND expires_at > ?`, hash, ms(tx.now)).Scan(&accountID, &userID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, unauthenticated
	} else if err != nil {
		return nil, err
	}
	user, err := findUser(tx, accountID, userID)
	if audittrail.ErrorCode(err) == audittrail.ENOTFOUND || (err == nil && !user.Enabled) {
		return nil, unauthenticated
	} else if err != nil {
		return nil, err
	}
	profile, err := findProfile(tx, accountID, user.ProfileID)
	if err != nil {
		return nil, err
	}
	return &audittrail.Principal{Kind: audittrail.PrincipalUser, AccountID: accountID, User: user, Profile: profile}, nil
}
