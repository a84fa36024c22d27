package postgres

import (
	"errors"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/internal/txkit"
	"github.com/jackc/pgx/v5"
)

// CreatePublisherKey stores k, without its secret, and hash, the hash of
// its secret. Returns EALREADYEXISTS for a hash already stored.
func (tx *txn) CreatePublisherKey(k *audittrail.PublisherKey, hash []byte) error {
	_, err := tx.exec(`
		INSERT INTO publisher_keys (account_id, id, name, prefix, hash, created_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.AccountID, k.ID, k.Name, k.Prefix, hash, k.CreatedAt, k.RevokedAt)
	return translate(err, "", txkit.KeyExists)
}

// FindPublisherKeys returns the keys of an account, revoked ones included,
// oldest first; none for an unknown account.
func (tx *txn) FindPublisherKeys(accountID string) ([]*audittrail.PublisherKey, error) {
	return collect(tx, scanKey, `SELECT `+keyColumns+` FROM publisher_keys WHERE account_id = $1 ORDER BY created_at, id COLLATE "C"`, accountID)
}

// FindPublisherKey returns ENOTFOUND.
func (tx *txn) FindPublisherKey(accountID, id string) (*audittrail.PublisherKey, error) {
	k, err := scanKey(tx.queryRow(`SELECT `+keyColumns+` FROM publisher_keys WHERE account_id = $1 AND id = $2`, accountID, id))
	return k, translate(err, txkit.KeyNotFound(id), "")
}

// RevokePublisherKey marks the key revoked at at; revoking a revoked key
// keeps its first revocation time. Returns ENOTFOUND.
func (tx *txn) RevokePublisherKey(accountID, id string, at time.Time) error {
	err := tx.queryRow(`
		UPDATE publisher_keys SET revoked_at = COALESCE(revoked_at, $1)
		WHERE account_id = $2 AND id = $3
		RETURNING id`,
		at, accountID, id).Scan(&id)
	return translate(err, txkit.KeyNotFound(id), "")
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

// CreateToken stores t. Returns ENOTFOUND for an unknown user,
// EALREADYEXISTS for a hash already stored.
func (tx *txn) CreateToken(t *audittrail.Token) error {
	if _, err := tx.FindUser(t.AccountID, t.UserID); err != nil {
		return err
	}
	_, err := tx.exec(`
		INSERT INTO tokens (hash, account_id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		t.Hash, t.AccountID, t.UserID, t.CreatedAt, t.ExpiresAt)
	// A foreign key violation: the user was deleted meanwhile.
	return translate(err, txkit.UserNotFound(t.UserID), txkit.TokenExists)
}

// DeleteToken removes a token; deleting an unknown token is not an error.
func (tx *txn) DeleteToken(hash []byte) error {
	_, err := tx.exec(`DELETE FROM tokens WHERE hash = $1`, hash)
	return err
}

// DeleteUserTokens removes every token of a user of the account.
func (tx *txn) DeleteUserTokens(accountID, userID string) error {
	_, err := tx.exec(`DELETE FROM tokens WHERE account_id = $1 AND user_id = $2`, accountID, userID)
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
		return nil, txkit.Unauthenticated()
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
