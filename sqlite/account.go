package sqlite

import (
	"database/sql"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/internal/txkit"
)

// CreateAccount inserts a. Returns EALREADYEXISTS if the id is taken.
func (tx *txn) CreateAccount(a *audittrail.Account) error {
	_, err := tx.exec(`
		INSERT INTO accounts (id, name, timezone, audit_trail_enabled, audit_trail_enabled_at, next_seq, created_at)
		VALUES (?, ?, ?, ?, ?, 0, ?)`,
		a.ID, a.Name, a.Timezone, a.AuditTrailEnabled, nullMS(a.AuditTrailEnabledAt), ms(a.CreatedAt))
	return translate(err, "", txkit.AccountExists(a.ID))
}

const accountColumns = `id, name, timezone, audit_trail_enabled, audit_trail_enabled_at, created_at`

func scanAccount(row scanner, extra ...any) (*audittrail.Account, error) {
	var a audittrail.Account
	var enabledAt sql.NullInt64
	var createdAt int64
	if err := row.Scan(append([]any{&a.ID, &a.Name, &a.Timezone, &a.AuditTrailEnabled, &enabledAt, &createdAt}, extra...)...); err != nil {
		return nil, err
	}
	a.AuditTrailEnabledAt = fromNullMS(enabledAt)
	a.CreatedAt = fromMS(createdAt)
	return &a, nil
}

// FindAccount returns ENOTFOUND if the account does not exist.
func (tx *txn) FindAccount(id string) (*audittrail.Account, error) {
	a, err := scanAccount(tx.queryRow(`SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id))
	return a, translate(err, txkit.AccountNotFound(id), "")
}

// LockAccount returns the account and the head of its log. A write holds
// every account already: SQLite has one writer.
func (tx *txn) LockAccount(id string) (*audittrail.Account, audittrail.LogHead, error) {
	var head audittrail.LogHead
	var packed []byte
	a, err := scanAccount(tx.queryRow(`SELECT `+accountColumns+`, next_seq, tree_size, tree_hashes FROM accounts WHERE id = ?`, id),
		&head.NextSeq, &head.TreeSize, &packed)
	if err != nil {
		return nil, head, translate(err, txkit.AccountNotFound(id), "")
	}
	head.TreeHashes, err = audittrail.UnpackHashes(id, packed)
	return a, head, err
}

// UpdateAccount stores a's name, timezone and audit-trail state. Returns
// ENOTFOUND.
func (tx *txn) UpdateAccount(a *audittrail.Account) error {
	var id string
	err := tx.queryRow(`
		UPDATE accounts SET name = ?, timezone = ?, audit_trail_enabled = ?, audit_trail_enabled_at = ?
		WHERE id = ? RETURNING id`,
		a.Name, a.Timezone, a.AuditTrailEnabled, nullMS(a.AuditTrailEnabledAt), a.ID).Scan(&id)
	return translate(err, txkit.AccountNotFound(a.ID), "")
}

// FindAccountIDs returns the ids of all accounts, in order.
func (tx *txn) FindAccountIDs() ([]string, error) {
	return collect(tx, func(row scanner) (id string, err error) { return id, row.Scan(&id) }, `SELECT id FROM accounts ORDER BY id`)
}
