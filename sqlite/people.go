package sqlite

import (
	"encoding/json"
	"fmt"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/internal/txkit"
)

// FindProfiles returns the profiles of an account by name; none for an
// unknown account.
func (tx *txn) FindProfiles(accountID string) ([]*audittrail.Profile, error) {
	return collect(tx, scanProfile, `SELECT `+profileColumns+` FROM profiles WHERE account_id = ? ORDER BY name`, accountID)
}

// FindProfile returns ENOTFOUND.
func (tx *txn) FindProfile(accountID, id string) (*audittrail.Profile, error) {
	p, err := scanProfile(tx.queryRow(`SELECT `+profileColumns+` FROM profiles WHERE account_id = ? AND id = ?`, accountID, id))
	return p, translate(err, txkit.ProfileNotFound(id), "")
}

// CreateProfile inserts p. Returns EALREADYEXISTS when the name is taken
// in the account.
func (tx *txn) CreateProfile(p *audittrail.Profile) error {
	perms, err := json.Marshal(p.Permissions)
	if err != nil {
		return err
	}
	_, err = tx.exec(`
		INSERT INTO profiles (account_id, id, name, description, role, permissions, built_in, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.AccountID, p.ID, p.Name, p.Description, p.Role, string(perms), p.BuiltIn, ms(p.CreatedAt), ms(p.UpdatedAt))
	return translate(err, "", txkit.ProfileExists(p.Name))
}

// UpdateProfile stores p's name, description, role, permissions and
// updated time, and sets its other fields as stored. Returns ENOTFOUND,
// EALREADYEXISTS when the name is taken in the account.
func (tx *txn) UpdateProfile(p *audittrail.Profile) error {
	perms, err := json.Marshal(p.Permissions)
	if err != nil {
		return err
	}
	var createdAt int64
	err = tx.queryRow(`
		UPDATE profiles SET name = ?, description = ?, role = ?, permissions = ?, updated_at = ?
		WHERE account_id = ? AND id = ?
		RETURNING built_in, created_at`,
		p.Name, p.Description, p.Role, string(perms), ms(p.UpdatedAt), p.AccountID, p.ID).Scan(&p.BuiltIn, &createdAt)
	if err = translate(err, txkit.ProfileNotFound(p.ID), txkit.ProfileExists(p.Name)); err != nil {
		return err
	}
	p.CreatedAt = fromMS(createdAt)
	return nil
}

// CountProfileUsers counts the users of the account that hold the profile.
func (tx *txn) CountProfileUsers(accountID, profileID string) (n int, err error) {
	err = tx.queryRow(`SELECT COUNT(*) FROM users WHERE account_id = ? AND profile_id = ?`, accountID, profileID).Scan(&n)
	return n, err
}

// DeleteProfile returns ENOTFOUND.
func (tx *txn) DeleteProfile(accountID, id string) error {
	err := tx.queryRow(`DELETE FROM profiles WHERE account_id = ? AND id = ? RETURNING id`, accountID, id).Scan(&id)
	return translate(err, txkit.ProfileNotFound(id), "")
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

// FindUsers returns the users of an account by login name; none for an
// unknown account.
func (tx *txn) FindUsers(accountID string) ([]*audittrail.User, error) {
	return collect(tx, scanUser, `SELECT `+userColumns+` FROM users WHERE account_id = ? ORDER BY login_name`, accountID)
}

// FindUser returns ENOTFOUND.
func (tx *txn) FindUser(accountID, id string) (*audittrail.User, error) {
	u, err := scanUser(tx.queryRow(`SELECT `+userColumns+` FROM users WHERE account_id = ? AND id = ?`, accountID, id))
	return u, translate(err, txkit.UserNotFound(id), "")
}

// FindUserByLogin returns ENOTFOUND. Login names compare exactly.
func (tx *txn) FindUserByLogin(accountID, loginName string) (*audittrail.User, error) {
	u, err := scanUser(tx.queryRow(`SELECT `+userColumns+` FROM users WHERE account_id = ? AND login_name = ?`, accountID, loginName))
	return u, translate(err, txkit.LoginNotFound(loginName), "")
}

// CreateUser inserts u, whose profile is one of its account's. Returns
// EALREADYEXISTS when the login name is taken.
func (tx *txn) CreateUser(u *audittrail.User) error {
	_, err := tx.exec(`
		INSERT INTO users (account_id, id, login_name, name, email, profile_id, enabled, password_hash, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.AccountID, u.ID, u.LoginName, u.Name, u.Email, u.ProfileID, u.Enabled, u.PasswordHash, ms(u.CreatedAt), ms(u.UpdatedAt))
	return translate(err, "", txkit.LoginTaken(u.LoginName))
}

// UpdateUser stores every field of u but its created time, which it sets as
// stored; its profile is one of its account's. Returns ENOTFOUND,
// EALREADYEXISTS when the login name is taken.
func (tx *txn) UpdateUser(u *audittrail.User) error {
	var createdAt int64
	err := tx.queryRow(`
		UPDATE users SET login_name = ?, name = ?, email = ?, profile_id = ?, enabled = ?, password_hash = ?, updated_at = ?
		WHERE account_id = ? AND id = ?
		RETURNING created_at`,
		u.LoginName, u.Name, u.Email, u.ProfileID, u.Enabled, u.PasswordHash, ms(u.UpdatedAt), u.AccountID, u.ID).Scan(&createdAt)
	if err = translate(err, txkit.UserNotFound(u.ID), txkit.LoginTaken(u.LoginName)); err != nil {
		return err
	}
	u.CreatedAt = fromMS(createdAt)
	return nil
}

// DeleteUser deletes the user and their tokens. Returns ENOTFOUND.
func (tx *txn) DeleteUser(accountID, id string) error {
	if _, err := tx.exec(`DELETE FROM tokens WHERE account_id = ? AND user_id = ?`, accountID, id); err != nil {
		return err
	}
	err := tx.queryRow(`DELETE FROM users WHERE account_id = ? AND id = ? RETURNING id`, accountID, id).Scan(&id)
	return translate(err, txkit.UserNotFound(id), "")
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
