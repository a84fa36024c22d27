package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/audittrail/audittrail"
)

// FindProfiles returns the profiles of an account by name; none for an
// unknown account.
func (db *DB) FindProfiles(ctx context.Context, accountID string) (ps []*audittrail.Profile, err error) {
	err = db.read(ctx, func(tx *txn) error {
		rows, err := tx.query(`SELECT `+profileColumns+` FROM profiles WHERE account_id = ? ORDER BY name`, accountID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanProfile(rows)
			if err != nil {
				return err
			}
			ps = append(ps, p)
		}
		return rows.Err()
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
		acct, err := findAccount(tx, p.AccountID)
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
		perms, err := marshalPermissions(p.Permissions)
		if err != nil {
			return err
		}
		var builtIn bool
		var createdAt int64
		err = tx.queryRow(`
			UPDATE profiles SET name = ?, description = ?, role = ?, permissions = ?, updated_at = ?
			WHERE account_id = ? AND id = ?
			RETURNING built_in, created_at`,
			p.Name, p.Description, p.Role, perms, ms(tx.now), p.AccountID, p.ID).Scan(&builtIn, &createdAt)
		if err = translate(err, profileNotFound(p.ID), profileExists(p.Name)); err != nil {
			return err
		}
		p.BuiltIn, p.CreatedAt, p.UpdatedAt = builtIn, fromMS(createdAt), tx.now
		return auditAccount(tx, p.AccountID, audit)
	})
}

// DeleteProfile returns ENOTFOUND, or ECONFLICT while users hold the profile.
func (db *DB) DeleteProfile(ctx context.Context, accountID, id string, audit ...audittrail.Entry) error {
	return db.write(ctx, func(tx *txn) error {
		var n int
		if err := tx.queryRow(`SELECT COUNT(*) FROM users WHERE account_id = ? AND profile_id = ?`, accountID, id).Scan(&n); err != nil {
			return err
		} else if n == 1 {
			return audittrail.Errorf(audittrail.ECONFLICT, "profile %s is held by 1 user; give that user another profile first", id)
		} else if n > 1 {
			return audittrail.Errorf(audittrail.ECONFLICT, "profile %s is held by %d users; give them another profile first", id, n)
		}
		err := tx.queryRow(`DELETE FROM profiles WHERE account_id = ? AND id = ? RETURNING id`, accountID, id).Scan(&id)
		if err := translate(err, profileNotFound(id), ""); err != nil {
			return err
		}
		return auditAccount(tx, accountID, audit)
	})
}

const profileColumns = `account_id, id, name, description, role, permissions, built_in, created_at, updated_at`

func scanProfile(row scanner) (*audittrail.Profile, error) {
	var p audittrail.Profile
	var perms string
	var createdAt, updatedAt int64
	if err := row.Scan(&p.AccountID, &p.ID, &p.Name, &p.Description, &p.Role, &perms, &p.BuiltIn, &createdAt, &updatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(perms), &p.Permissions); err != nil {
		return nil, fmt.Errorf("profile %s: permissions: %w", p.ID, err)
	}
	if p.Permissions == nil {
		p.Permissions = []string{}
	}
	p.CreatedAt, p.UpdatedAt = fromMS(createdAt), fromMS(updatedAt)
	return &p, nil
}

func findProfile(tx *txn, accountID, id string) (*audittrail.Profile, error) {
	p, err := scanProfile(tx.queryRow(`SELECT `+profileColumns+` FROM profiles WHERE account_id = ? AND id = ?`, accountID, id))
	return p, translate(err, profileNotFound(id), "")
}

func createProfile(tx *txn, p *audittrail.Profile) error {
	if p.ID == "" {
		p.ID = audittrail.NewID("prf_")
	}
	if p.Permissions == nil {
		p.Permissions = []string{}
	}
	perms, err := marshalPermissions(p.Permissions)
	if err != nil {
		return err
	}
	p.CreatedAt, p.UpdatedAt = tx.now, tx.now
	_, err = tx.exec(`
		INSERT INTO profiles (account_id, id, name, description, role, permissions, built_in, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.AccountID, p.ID, p.Name, p.Description, p.Role, perms, p.BuiltIn, ms(p.CreatedAt), ms(p.UpdatedAt))
	return translate(err, "", profileExists(p.Name))
}

func marshalPermissions(perms []string) (string, error) {
	if perms == nil {
		perms = []string{}
	}
	b, err := json.Marshal(perms)
	return string(b), err
}

func profileNotFound(id string) string { return fmt.Sprintf("profile %s not found", id) }

func profileExists(name string) string {
	return fmt.Sprintf("a profile named %q already exists in this account", name)
}

// FindUsers returns the users of an account by login name; none for an
// unknown account.
func (db *DB) FindUsers(ctx context.Context, accountID string) (us []*audittrail.User, err error) {
	err = db.read(ctx, func(tx *txn) error {
		rows, err := tx.query(`SELECT `+userColumns+` FROM users WHERE account_id = ? ORDER BY login_name`, accountID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				return err
			}
			us = append(us, u)
		}
		return rows.Err()
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
		u, err = scanUser(tx.queryRow(`SELECT `+userColumns+` FROM users WHERE account_id = ? AND login_name = ?`, accountID, loginName))
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
		acct, err := findAccount(tx, u.AccountID)
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
		if _, err := findUser(tx, u.AccountID, u.ID); err != nil {
			return err
		}
		if err := checkUserProfile(tx, u); err != nil {
			return err
		}
		var createdAt int64
		err := tx.queryRow(`
			UPDATE users SET login_name = ?, name = ?, email = ?, profile_id = ?, enabled = ?, password_hash = ?, updated_at = ?
			WHERE account_id = ? AND id = ?
			RETURNING created_at`,
			u.LoginName, u.Name, u.Email, u.ProfileID, u.Enabled, u.PasswordHash, ms(tx.now), u.AccountID, u.ID).Scan(&createdAt)
		if err = translate(err, userNotFound(u.ID), loginTaken(u.LoginName)); err != nil {
			return err
		}
		u.CreatedAt, u.UpdatedAt = fromMS(createdAt), tx.now
		return auditAccount(tx, u.AccountID, audit)
	})
}

// DeleteUser deletes the user and their tokens. Returns ENOTFOUND.
func (db *DB) DeleteUser(ctx context.Context, accountID, id string, audit ...audittrail.Entry) error {
	return db.write(ctx, func(tx *txn) error {
		if _, err := tx.exec(`DELETE FROM tokens WHERE account_id = ? AND user_id = ?`, accountID, id); err != nil {
			return err
		}
		err := tx.queryRow(`DELETE FROM users WHERE account_id = ? AND id = ? RETURNING id`, accountID, id).Scan(&id)
		if err := translate(err, userNotFound(id), ""); err != nil {
			return err
		}
		return auditAccount(tx, accountID, audit)
	})
}

const userColumns = `account_id, id, login_name, name, email, profile_id, enabled, password_hash, created_at, updated_at`

func scanUser(row scanner) (*audittrail.User, error) {
	var u audittrail.User
	var createdAt, updatedAt int64
	if err := row.Scan(&u.AccountID, &u.ID, &u.LoginName, &u.Name, &u.Email, &u.ProfileID, &u.Enabled, &u.PasswordHash, &createdAt, &updatedAt); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = fromMS(createdAt), fromMS(updatedAt)
	return &u, nil
}

func findUser(tx *txn, accountID, id string) (*audittrail.User, error) {
	u, err := scanUser(tx.queryRow(`SELECT `+userColumns+` FROM users WHERE account_id = ? AND id = ?`, accountID, id))
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
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.AccountID, u.ID, u.LoginName, u.Name, u.Email, u.ProfileID, u.Enabled, u.PasswordHash, ms(u.CreatedAt), ms(u.UpdatedAt))
	return translate(err, "", loginTaken(u.LoginName))
}

// checkUserProfile refuses a user whose profile is not one of its account's.
func checkUserProfile(tx *txn, u *audittrail.User) error {
	var n int
	if err := tx.queryRow(`SELECT COUNT(*) FROM profiles WHERE account_id = ? AND id = ?`, u.AccountID, u.ProfileID).Scan(&n); err != nil {
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
