package postgres

import (
	"context"
	"fmt"

	"github.com/audittrail/audittrail"
	"github.com/jackc/pgx/v5"
)

// FindProfiles returns the profiles of an account by name; none for an
// unknown account.
func (db *DB) FindProfiles(ctx context.Context, accountID string) (ps []*audittrail.Profile, err error) {
	err = db.read(ctx, func(tx *txn) error {
		rows, err := tx.query(`SELECT `+profileColumns+` FROM profiles WHERE account_id = $1 ORDER BY name COLLATE "C"`, accountID)
		if err != nil {
			return err
		}
		ps, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*audittrail.Profile, error) { return scanProfile(row) })
		return err
	})
	return ps, err
}

// FindProfile returns ENOTFOUND.
func (db *DB) FindProfile(ctx context.Context, accountID, id string) (p *audittrail.Profile, err error) {
	err = db.read(ctx, func(tx *txn) error {
		p, err = findProfile(tx, accountID, id)
		return err
	})
	return p, err
}

// CreateProfile stores p in the account p.AccountID, setting its id if
// empty and its created and updated times to the store's clock. Returns
// ENOTFOUND for an unknown account, EALREADYEXISTS when the name is taken in
// the account.
func (db *DB) CreateProfile(ctx context.Context, p *audittrail.Profile, audit ...audittrail.Entry) error {
	return db.write(ctx, func(tx *txn) error {
		acct, err := lockAccount(tx, p.AccountID)
		if err != nil {
			return err
		}
		if err := createProfile(tx, p); err != nil {
			return err
		}
		return appendAudit(tx, acct, audit)
	})
}

// UpdateProfile stores p's name, description, role and permissions, and sets
// its updated time to the store's clock (and its other fields as stored).
// Returns ENOTFOUND, EALREADYEXISTS when the name is taken in the account.
func (db *DB) UpdateProfile(ctx context.Context, p *audittrail.Profile, audit ...audittrail.Entry) error {
	return db.write(ctx, func(tx *txn) error {
		acct, err := lockAccount(tx, p.AccountID)
		if err != nil {
			return err
		}
		if p.Permissions == nil {
			p.Permissions = []string{}
		}
		err = tx.queryRow(`
			UPDATE profiles SET name = $1, description = $2, role = $3, permissions = $4, updated_at = $5
			WHERE account_id = $6 AND id = $7
			RETURNING built_in, created_at`,
			p.Name, p.Description, p.Role, p.Permissions, tx.now, p.AccountID, p.ID).Scan(&p.BuiltIn, &p.CreatedAt)
		if err = translate(err, profileNotFound(p.ID), profileExists(p.Name)); err != nil {
			return err
		}
		p.CreatedAt, p.UpdatedAt = utc(p.CreatedAt), tx.now
		return appendAudit(tx, acct, audit)
	})
}

// DeleteProfile returns ENOTFOUND, or ECONFLICT while users hold the profile.
func (db *DB) DeleteProfile(ctx context.Context, accountID, id string, audit ...audittrail.Entry) error {
	return db.write(ctx, func(tx *txn) error {
		acct, err := lockAccount(tx, accountID)
		if err != nil {
			return err
		}
		var n int
		if err := tx.queryRow(`SELECT count(*) FROM users WHERE account_id = $1 AND profile_id = $2`, accountID, id).Scan(&n); err != nil {
			return err
		} else if n == 1 {
			return audittrail.Errorf(audittrail.ECONFLICT, "profile %s is held by 1 user; give that user another profile first", id)
		} else if n > 1 {
			return audittrail.Errorf(audittrail.ECONFLICT, "profile %s is held by %d users; give them another profile first", id, n)
		}
		err = tx.queryRow(`DELETE FROM profiles WHERE account_id = $1 AND id = $2 RETURNING id`, accountID, id).Scan(&id)
		if err := translate(err, profileNotFound(id), ""); err != nil {
			return err
		}
		return appendAudit(tx, acct, audit)
	})
}

const profileColumns = `account_id, id, name, description, role, permissions, built_in, created_at, updated_at`

func scanProfile(row pgx.Row) (*audittrail.Profile, error) {
	var p audittrail.Profile
	if err := row.Scan(&p.AccountID, &p.ID, &p.Name, &p.Description, &p.Role, &p.Permissions, &p.BuiltIn, &p.CreatedAt, &p.UpdatedAt); err != nil {
		return nil, err
	}
	if p.Permissions == nil {
		p.Permissions = []string{}
	}
	p.CreatedAt, p.UpdatedAt = utc(p.CreatedAt), utc(p.UpdatedAt)
	return &p, nil
}

func findProfile(tx *txn, accountID, id string) (*audittrail.Profile, error) {
	p, err := scanProfile(tx.queryRow(`SELECT `+profileColumns+` FROM profiles WHERE account_id = $1 AND id = $2`, accountID, id))
	return p, translate(err, profileNotFound(id), "")
}

func createProfile(tx *txn, p *audittrail.Profile) error {
	if p.ID == "" {
		p.ID = audittrail.NewID("prf_")
	}
	if p.Permissions == nil {
		p.Permissions = []string{}
	}
	p.CreatedAt, p.UpdatedAt = tx.now, tx.now
	_, err := tx.exec(`
		INSERT INTO profiles (account_id, id, name, description, role, permissions, built_in, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		p.AccountID, p.ID, p.Name, p.Description, p.Role, p.Permissions, p.BuiltIn, p.CreatedAt, p.UpdatedAt)
	return translate(err, "", profileExists(p.Name))
}

func profileNotFound(id string) string { return fmt.Sprintf("profile %s not found", id) }

func profileExists(name string) string {
	return fmt.Sprintf("a profile named %q already exists in this account", name)
}

// FindUsers returns the users of an account by login name; none for an
// unknown account.
func (db *DB) FindUsers(ctx context.Context, accountID string) (us []*audittrail.User, err error) {
	err = db.read(ctx, func(tx *txn) error {
		rows, err := tx.query(`SELECT `+userColumns+` FROM users WHERE account_id = $1 ORDER BY login_name COLLATE "C"`, accountID)
		if err != nil {
			return err
		}
		us, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*audittrail.User, error) { return scanUser(row) })
		return err
	})
	return us, err
}

// FindUser returns ENOTFOUND.
func (db *DB) FindUser(ctx context.Context, accountID, id string) (u *audittrail.User, err error) {
	err = db.read(ctx, func(tx *txn) error {
		u, err = findUser(tx, accountID, id)
		return err
	})
	return u, err
}

// FindUserByLogin returns ENOTFOUND. Login names compare exactly.
func (db *DB) FindUserByLogin(ctx context.Context, accountID, loginName string) (u *audittrail.User, err error) {
	err = db.read(ctx, func(tx *txn) error {
		u, err = scanUser(tx.queryRow(`SELECT `+userColumns+` FROM users WHERE account_id = $1 AND login_name = $2`, accountID, loginName))
		return translate(err, fmt.Sprintf("no user with login name %q", loginName), "")
	})
	return u, err
}

// CreateUser stores u in the account u.AccountID, setting its id if empty
// and its created and updated times to the store's clock. Returns ENOTFOUND
// for an unknown account, EVALIDATION when the profile is not one of the
// account's, EALREADYEXISTS when the login name is taken in the account.
func (db *DB) CreateUser(ctx context.Context, u *audittrail.User, audit ...audittrail.Entry) error {
	return db.write(ctx, func(tx *txn) error {
		acct, err := lockAccount(tx, u.AccountID)
		if err != nil {
			return err
		}
		if err := createUser(tx, u); err != nil {
			return err
		}
		return appendAudit(tx, acct, audit)
	})
}

// UpdateUser stores every field of u and sets its updated time to the
// store's clock. Returns ENOTFOUND, EVALIDATION when the profile is not one
// of the account's, EALREADYEXISTS when the login name is taken.
func (db *DB) UpdateUser(ctx context.Context, u *audittrail.User, audit ...audittrail.Entry) error {
	return db.write(ctx, func(tx *txn) error {
		acct, err := lockAccount(tx, u.AccountID)
		if err != nil {
			return err
		}
		if _, err := findUser(tx, u.AccountID, u.ID); err != nil {
			return err
		}
		if err := checkUserProfile(tx, u); err != nil {
			return err
		}
		err = tx.queryRow(`
			UPDATE users SET login_name = $1, name = $2, email = $3, profile_id = $4, enabled = $5, password_hash = $6, updated_at = $7
			WHERE account_id = $8 AND id = $9
			RETURNING created_at`,
			u.LoginName, u.Name, u.Email, u.ProfileID, u.Enabled, u.PasswordHash, tx.now, u.AccountID, u.ID).Scan(&u.CreatedAt)
		if err = translate(err, userNotFound(u.ID), loginTaken(u.LoginName)); err != nil {
			return err
		}
		u.CreatedAt, u.UpdatedAt = utc(u.CreatedAt), tx.now
		return appendAudit(tx, acct, audit)
	})
}

// DeleteUser deletes the user and their tokens. Returns ENOTFOUND.
func (db *DB) DeleteUser(ctx context.Context, accountID, id string, audit ...audittrail.Entry) error {
	return db.write(ctx, func(tx *txn) error {
		acct, err := lockAccount(tx, accountID)
		if err != nil {
			return err
		}
		if _, err := tx.exec(`DELETE FROM tokens WHERE account_id = $1 AND user_id = $2`, accountID, id); err != nil {
			return err
		}
		err = tx.queryRow(`DELETE FROM users WHERE account_id = $1 AND id = $2 RETURNING id`, accountID, id).Scan(&id)
		if err := translate(err, userNotFound(id), ""); err != nil {
			return err
		}
		return appendAudit(tx, acct, audit)
	})
}

const userColumns = `account_id, id, login_name, name, email, profile_id, enabled, password_hash, created_at, updated_at`

func scanUser(row pgx.Row) (*audittrail.User, error) {
	var u audittrail.User
	if err := row.Scan(&u.AccountID, &u.ID, &u.LoginName, &u.Name, &u.Email, &u.ProfileID, &u.Enabled, &u.PasswordHash, &u.CreatedAt, &u.UpdatedAt); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = utc(u.CreatedAt), utc(u.UpdatedAt)
	return &u, nil
}

func findUser(tx *txn, accountID, id string) (*audittrail.User, error) {
	u, err := scanUser(tx.queryRow(`SELECT `+userColumns+` FROM users WHERE account_id = $1 AND id = $2`, accountID, id))
	return u, translate(err, userNotFound(id), "")
}

func createUser(tx *txn, u *audittrail.User) error {
	if u.ID == "" {
		u.ID = audittrail.NewID("usr_")
	}
	if err := checkUserProfile(tx, u); err != nil {
		return err
	}
	u.CreatedAt, u.UpdatedAt = tx.now, tx.now
	_, err := tx.exec(`
		INSERT INTO users (account_id, id, login_name, name, email, profile_id, enabled, password_hash, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		u.AccountID, u.ID, u.LoginName, u.Name, u.Email, u.ProfileID, u.Enabled, u.PasswordHash, u.CreatedAt, u.UpdatedAt)
	return translate(err, "", loginTaken(u.LoginName))
}

// checkUserProfile refuses a user whose profile is not one of its account's.
func checkUserProfile(tx *txn, u *audittrail.User) error {
	var n int
	if err := tx.queryRow(`SELECT count(*) FROM profiles WHERE account_id = $1 AND id = $2`, u.AccountID, u.ProfileID).Scan(&n); err != nil {
		return err
	} else if n == 0 {
		return audittrail.Errorf(audittrail.EVALIDATION, "profile %q does not exist in this account", u.ProfileID)
	}
	return nil
}

func userNotFound(id string) string { return fmt.Sprintf("user %s not found", id) }

func loginTaken(login string) string {
	return fmt.Sprintf("the login name %q is already taken in this account", login)
}
