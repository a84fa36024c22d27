package postgres

import (
	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/internal/txkit"
	"github.com/jackc/pgx/v5"
)

// CreateAccount inserts a. Returns EALREADYEXISTS if the id is taken.
func (tx *txn) CreateAccount(a *audittrail.Account) error {
	_, err := tx.exec(`
		INSERT INTO accounts (id, name, timezone, audit_trail_enabled, audit_trail_enabled_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		a.ID, a.Name, a.Timezone, a.AuditTrailEnabled, a.AuditTrailEnabledAt, a.CreatedAt)
	return translate(err, "", txkit.AccountExists(a.ID))
}

const accountColumns = `id, name, timezone, audit_trail_enabled, audit_trail_enabled_at, created_at`

func scanAccount(row pgx.Row, extra ...any) (*audittrail.Account, error) {
	var a audittrail.Account
	if err := row.Scan(append([]any{&a.ID, &a.Name, &a.Timezone, &a.AuditTrailEnabled, &a.AuditTrailEnabledAt, &a.CreatedAt}, extra...)...); err != nil {
		return nil, err
	}
	a.AuditTrailEnabledAt, a.CreatedAt = utcPtr(a.AuditTrailEnabledAt), utc(a.CreatedAt)
	return &a, nil
}

// FindAccount returns ENOTFOUND if the account does not exist.
func (tx *txn) FindAccount(id string) (*audittrail.Account, error) {
	a, err := scanAccount(tx.queryRow(`SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id))
	return a, translate(err, txkit.AccountNotFound(id), "")
}

// LockAccount reads the account and the head of its log, and locks its row
// until the end of the transaction. Every write that changes an account's
// data, or may append to its trail, takes this lock first, so that such
// writes of one account, from any replica, run one after the other, each
// reading the seq and tree that the one before committed, in the same lock
// order everywhere (no deadlock). FOR NO KEY UPDATE, not FOR UPDATE: it
// excludes the other writers all the same, but not the foreign key checks
// of inserts that refer to the account. Returns ENOTFOUND.
func (tx *txn) LockAccount(id string) (*audittrail.Account, audittrail.LogHead, error) {
	var head audittrail.LogHead
	var size int64
	var packed []byte
	a, err := scanAccount(tx.queryRow(`SELECT `+accountColumns+`, next_seq, tree_size, tree_hashes FROM accounts WHERE id = $1 FOR NO KEY UPDATE`, id),
		&head.NextSeq, &size, &packed)
	if err != nil {
		return nil, head, translate(err, txkit.AccountNotFound(id), "")
	}
	head.TreeSize = uint64(size)
	head.TreeHashes, err = audittrail.UnpackHashes(id, packed)
	return a, head, err
}

// UpdateAccount stores a's name, timezone and audit-trail state. Returns
// ENOTFOUND.
func (tx *txn) UpdateAccount(a *audittrail.Account) error {
	var id string
	err := tx.queryRow(`
		UPDATE accounts SET name = $1, timezone = $2, audit_trail_enabled = $3, audit_trail_enabled_at = $4
		WHERE id = $5 RETURNING id`,
		a.Name, a.Timezone, a.AuditTrailEnabled, a.AuditTrailEnabledAt, a.ID).Scan(&id)
	return translate(err, txkit.AccountNotFound(a.ID), "")
}

// FindAccountIDs returns the ids of all accounts, in order.
func (tx *txn) FindAccountIDs() ([]string, error) {
	return collect(tx, scanID, `SELECT id FROM accounts ORDER BY id COLLATE "C"`)
}
