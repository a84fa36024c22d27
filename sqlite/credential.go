package sqlite

import (
	"database/sql"
	"errors"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/internal/txkit"
)

// CreatePublisherKey stores k, without its secret, and hash, the hash of
// its secret. Returns EALREADYEXISTS for a hash already stored.
func (tx *txn) CreatePublisherKey(k *audittrail.PublisherKey, hash []byte) error {
	_, err := tx.exec(`
		INSERT INTO publisher_keys (account_id, id, name, prefix, hash, created_at, revoked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.AccountID, k.ID, k.Name, k.Prefix, hash, ms(k.CreatedAt), nullMS(k.RevokedAt))
	return translate(err, "", txkit.KeyExists)
}

// FindPublisherKeys returns the keys of an account, revoked ones included,
// oldest first; none for an unknown account.
func (tx *txn) FindPublisherKeys(accountID string) ([]*audittrail.PublisherKey, error) {
	return collect(tx, scanKey, `SELECT `+keyColumns+` FROM publisher_keys WHERE account_id = ? ORDER BY created_at, id`, accountID)
}

// FindPublisherKey returns ENOTFOUND.
func (tx *txn) FindPublisherKey(accountID, id string) (*audittrail.PublisherKey, error) {
	k, err := scanKey(tx.queryRow(`SELECT `+keyColumns+` FROM publisher_keys WHERE account_id = ? AND id = ?`, accountID, id))
	return k, translate(err, txkit.KeyNotFound(id), "")
}

// RevokePublisherKey marks the key revoked at at; revoking a revoked key
// keeps its first revocation time. Returns ENOTFOUND.
func (tx *txn) RevokePublisherKey(accountID, id string, at time.Time) error {
	err := tx.queryRow(`
		UPDATE publisher_keys SET revoked_at = COALESCE(revoked_at, ?)
		WHERE account_id = ? AND id = ?
		RETURNING id`,
		ms(at), accountID, id).Scan(&id)
	return translate(err, txkit.KeyNotFound(id), "")
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

// CreateToken stores t. Returns ENOTFOUND for an unknown user,
// EALREADYEXISTS for a hash already stored.
func (tx *txn) CreateToken(t *audittrail.Token) error {
	if _, err := tx.FindUser(t.AccountID, t.UserID); err != nil {
		return err
	}
	_, err := tx.exec(`
		INSERT INTO tokens (hash, account_id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		t.Hash, t.AccountID, t.UserID, ms(t.CreatedAt), ms(t.ExpiresAt))
	return translate(err, "", txkit.TokenExists)
}

// DeleteToken removes a token; deleting an unknown token is not an error.
func (tx *txn) DeleteToken(hash []byte) error {
	_, err := tx.exec(`DELETE FROM tokens WHERE hash = ?`, hash)
	return err
}

// DeleteUserTokens removes every token of a user of the account.
func (tx *txn) DeleteUserTokens(accountID, userID string) error {
	_, err := tx.exec(`DELETE FROM tokens WHERE account_id = ? AND user_id = ?`, accountID, userID)
	return err
}

// Authenticate returns the principal behind a credential's hash: a
// publisher key that is not revoked, or else a token that has not expired
// (at the transaction's clock) of an enabled user, with the user's profile
// as it is now. Returns EUNAUTHENTICATED otherwise.
//
// The hash alone finds the credential, and the credential names its
// account: this is the one lookup not scoped by an account.
func (tx *txn) Authenticate(hash []byte) (*audittrail.Principal, error) {
	if len(hash) == 0 {
		return nil, txkit.Unauthenticated()
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
		return nil, txkit.Unauthenticated()
	} else if err != nil {
		return nil, err
	}
	return txkit.UserPrincipal(tx, accountID, userID)
}
