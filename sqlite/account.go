package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/audittrail/audittrail"
)

// CreateAccount stores a, its profiles and its first administrator (admin
// may be nil) in one transaction. It sets the accounts and profiles'
// AccountID, the created and updated times to the store's clock, and the
// audit trail's enabling time when a is created enabled. The default
// timezone is UTC. Returns EALREADYEXISTS if the id is taken.
func (db *DB) CreateAccount(ctx context.Context, a *audittrail.Account, profiles []*audittrail.Profile, admin *audittrail.User) error {
	return db.write(ctx, func(tx *txn) error {
		if err := createAccount(tx, a); err != nil {
			return err
		}
		for _, p := range profiles {
			p.AccountID = a.ID
			if err := createProfile(tx, p); err != nil {
				return err
			}
		}
		if admin != nil {
			admin.AccountID = a.ID
			return createUser(tx, admin)
		}
		return nil
	})
}

// FindAccount returns ENOTFOUND if the account does not exist.
func (db *DB) FindAccount(ctx context.Context, id string) (a *audittrail.Account, err error) {
	err = db.read(ctx, func(tx *txn) error {
		a, err = findAccount(tx, id)
		return err
	})
	return a, err
}

// UpdateAccount applies upd and returns the account as stored. Turning the
// audit trail on when it is off sets its enabling time to the store's clock;
// turning it off, or on again while on, keeps the last enabling time.
// Returns ENOTFOUND.
func (db *DB) UpdateAccount(ctx context.Context, id string, upd audittrail.AccountUpdate, audit ...audittrail.Entry) (a *audittrail.Account, err error) {
	err = db.write(ctx, func(tx *txn) error {
		before, err := findAccount(tx, id)
		if err != nil {
			return err
		}
		if a, err = updateAccount(tx, id, upd); err != nil {
			return err
		}
		// Turning the trail off is recorded too: it is judged by the state
		// before the change, turning it on by the state after.
		judge := a
		if before.AuditTrailEnabled {
			judge = before
		}
		return appendAudit(tx, judge, audit)
	})
	return a, err
}

// EnableAuditTrailAt enables the account's audit trail as of at, which may
// be in the past, so that records dated from at on are accepted. It is not
// part of audittrail.Store: nothing but the demo (demo.Seed, which creates a
// year of history) may enable an audit trail retroactively. Returns
// ENOTFOUND.
func (db *DB) EnableAuditTrailAt(ctx context.Context, accountID string, at time.Time) error {
	return db.write(ctx, func(tx *txn) error {
		err := tx.queryRow(`UPDATE accounts SET audit_trail_enabled = 1, audit_trail_enabled_at = ? WHERE id = ? RETURNING id`,
			ms(at), accountID).Scan(&accountID)
		return translate(err, fmt.Sprintf("account %s not found", accountID), "")
	})
}

// FindAccountIDs returns the ids of all accounts, in order.
func (db *DB) FindAccountIDs(ctx context.Context) (ids []string, err error) {
	err = db.read(ctx, func(tx *txn) error {
		rows, err := tx.query(`SELECT id FROM accounts ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	return ids, err
}

func createAccount(tx *txn, a *audittrail.Account) error {
	if a.Timezone == "" {
		a.Timezone = "UTC"
	}
	a.CreatedAt = tx.now
	if a.AuditTrailEnabled && a.AuditTrailEnabledAt == nil {
		now := tx.now
		a.AuditTrailEnabledAt = &now
	}
	_, err := tx.exec(`
		INSERT INTO accounts (id, name, timezone, audit_trail_enabled, audit_trail_enabled_at, next_seq, created_at)
		VALUES (?, ?, ?, ?, ?, 0, ?)`,
		a.ID, a.Name, a.Timezone, a.AuditTrailEnabled, nullMS(a.AuditTrailEnabledAt), ms(a.CreatedAt))
	return translate(err, "", fmt.Sprintf("account %s already exists", a.ID))
}

const accountColumns = `id, name, timezone, audit_trail_enabled, audit_trail_enabled_at, created_at`

func scanAccount(row scanner) (*audittrail.Account, error) {
	var a audittrail.Account
	var enabledAt sql.NullInt64
	var createdAt int64
	if err := row.Scan(&a.ID, &a.Name, &a.Timezone, &a.AuditTrailEnabled, &enabledAt, &createdAt); err != nil {
		return nil, err
	}
	a.AuditTrailEnabledAt = fromNullMS(enabledAt)
	a.CreatedAt = fromMS(createdAt)
	return &a, nil
}

func findAccount(tx *txn, id string) (*audittrail.Account, error) {
	a, err := scanAccount(tx.queryRow(`SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id))
	return a, translate(err, fmt.Sprintf("account %s not found", id), "")
}

func updateAccount(tx *txn, id string, upd audittrail.AccountUpdate) (*audittrail.Account, error) {
	a, err := findAccount(tx, id)
	if err != nil {
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
			now := tx.now
			a.AuditTrailEnabledAt = &now
		}
		a.AuditTrailEnabled = *upd.AuditTrailEnabled
	}
	_, err = tx.exec(`
		UPDATE accounts SET name = ?, timezone = ?, audit_trail_enabled = ?, audit_trail_enabled_at = ?
		WHERE id = ?`,
		a.Name, a.Timezone, a.AuditTrailEnabled, nullMS(a.AuditTrailEnabledAt), a.ID)
	if err != nil {
		return nil, err
	}
	return a, nil
}
