package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/jackc/pgx/v5"
)

// CreateAccount stores a, its profiles and its first administrator (admin
// may be nil) in one transaction. It sets the account's and profiles'
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
		a, err = findAccount(tx, id, "")
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
		before, err := lockAccount(tx, id)
		if err != nil {
			return err
		}
		if a, err = updateAccount(tx, before, upd); err != nil {
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
		err := tx.queryRow(`UPDATE accounts SET audit_trail_enabled = true, audit_trail_enabled_at = $1 WHERE id = $2 RETURNING id`,
			audittrail.TruncateTime(at), accountID).Scan(&accountID)
		return translate(err, accountNotFound(accountID), "")
	})
}

// FindAccountIDs returns the ids of all accounts, in order.
func (db *DB) FindAccountIDs(ctx context.Context) (ids []string, err error) {
	err = db.read(ctx, func(tx *txn) error {
		rows, err := tx.query(`SELECT id FROM accounts ORDER BY id COLLATE "C"`)
		if err != nil {
			return err
		}
		ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
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
		INSERT INTO accounts (id, name, timezone, audit_trail_enabled, audit_trail_enabled_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		a.ID, a.Name, a.Timezone, a.AuditTrailEnabled, a.AuditTrailEnabledAt, a.CreatedAt)
	return translate(err, "", fmt.Sprintf("account %s already exists", a.ID))
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

// findAccount reads the account; lock is "" or a locking clause.
func findAccount(tx *txn, id, lock string) (*audittrail.Account, error) {
	a, err := scanAccount(tx.queryRow(`SELECT `+accountColumns+` FROM accounts WHERE id = $1 `+lock, id))
	return a, translate(err, accountNotFound(id), "")
}

// lockAccount reads the account and locks its row until the end of the
// transaction. Every write that changes an account's data, or may append
// to its trail, takes this lock first, so that such writes of one account
// run one after the other, in the same lock order everywhere (no
// deadlock). FOR NO KEY UPDATE, not FOR UPDATE: it excludes the other
// writers all the same, but not the foreign key checks of inserts that
// refer to the account.
func lockAccount(tx *txn, id string) (*audittrail.Account, error) {
	return findAccount(tx, id, `FOR NO KEY UPDATE`)
}

func accountNotFound(id string) string { return fmt.Sprintf("account %s not found", id) }

func updateAccount(tx *txn, before *audittrail.Account, upd audittrail.AccountUpdate) (*audittrail.Account, error) {
	a := *before
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
	_, err := tx.exec(`
		UPDATE accounts SET name = $1, timezone = $2, audit_trail_enabled = $3, audit_trail_enabled_at = $4
		WHERE id = $5`,
		a.Name, a.Timezone, a.AuditTrailEnabled, a.AuditTrailEnabledAt, a.ID)
	if err != nil {
		return nil, err
	}
	return &a, nil
}
