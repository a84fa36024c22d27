package postgres

import (
	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/internal/txkit"
	"github.com/jackc/pgx/v5"
)

// FindProfiles returns the profiles of an account by name; none for an
// unknown account.
func (tx *txn) FindProfiles(accountID string) ([]*audittrail.Profile, error) {
	return collect(tx, scanProfile, `SELECT `+profileColumns+` FROM profiles WHERE account_id = $1 ORDER BY name COLLATE "C"`, accountID)
}

// FindProfile returns ENOTFOUND.
func (tx *txn) FindProfile(accountID, id string) (*audittrail.Profile, error) {
	p, err := scanProfile(tx.queryRow(`SELECT `+profileColumns+` FROM profiles WHERE account_id = $1 AND id = $2`, accountID, id))
	return p, translate(err, txkit.ProfileNotFound(id), "")
}

// CreateProfile inserts p. Returns ENOTFOUND for an unknown account,
// EALREADYEXISTS when the name is taken in the account.
func (tx *txn) CreateProfile(p *audittrail.Profile) error {
	_, err := tx.exec(`
		INSERT INTO profiles (account_id, id, name, description, role, permissions, built_in, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		p.AccountID, p.ID, p.Name, p.Description, p.Role, p.Permissions, p.BuiltIn, p.CreatedAt, p.UpdatedAt)
	return translate(err, "", txkit.ProfileExists(p.Name))
}

// UpdateProfile stores p's name, description, role, permissions and
// updated time, and sets its other fields as stored. Returns ENOTFOUND,
// EALREADYEXISTS when the name is taken in the account.
func (tx *txn) UpdateProfile(p *audittrail.Profile) error {
	err := tx.queryRow(`
		UPDATE profiles SET name = $1, description = $2, role = $3, permissions = $4, updated_at = $5
		WHERE account_id = $6 AND id = $7
		RETURNING built_in, created_at`,
		p.Name, p.Description, p.Role, p.Permissions, p.UpdatedAt, p.AccountID, p.ID).Scan(&p.BuiltIn, &p.CreatedAt)
	p.CreatedAt = utc(p.CreatedAt)
	return translate(err, txkit.ProfileNotFound(p.ID), txkit.ProfileExists(p.Name))
}

// CountProfileUsers counts the users of the account that hold the profile.
func (tx *txn) CountProfileUsers(accountID, profileID string) (n int, err error) {
	err = tx.queryRow(`SELECT count(*) FROM users WHERE account_id = $1 AND profile_id = $2`, accountID, profileID).Scan(&n)
	return n, err
}

// DeleteProfile returns ENOTFOUND.
func (tx *txn) DeleteProfile(accountID, id string) error {
	err := tx.queryRow(`DELETE FROM profiles WHERE account_id = $1 AND id = $2 RETURNING id`, accountID, id).Scan(&id)
	return translate(err, txkit.ProfileNotFound(id), "")
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

// FindUsers returns the users of an account by login name; none for an
// unknown account.
func (tx *txn) FindUsers(accountID string) ([]*audittrail.User, error) {
	return collect(tx, scanUser, `SELECT `+userColumns+` FROM users WHERE account_id = $1 ORDER BY login_name COLLATE "C"`, accountID)
}

// FindUser returns ENOTFOUND.
func (tx *txn) FindUser(accountID, id string) (*audittrail.User, error) {
	u, err := scanUser(tx.queryRow(`SELECT `+userColumns+` FROM users WHERE account_id = $1 AND id = $2`, accountID, id))
	return u, translate(err, txkit.UserNotFound(id), "")
}

// FindUserByLogin returns ENOTFOUND. Login names compare exactly.
func (tx *txn) FindUserByLogin(accountID, loginName string) (*audittrail.User, error) {
	u, err := scanUser(tx.queryRow(`SELECT `+userColumns+` FROM users WHERE account_id = $1 AND login_name = $2`, accountID, loginName))
	return u, translate(err, txkit.LoginNotFound(loginName), "")
}

// CreateUser inserts u, whose profile is one of its account's. Returns
// EALREADYEXISTS when the login name is taken.
func (tx *txn) CreateUser(u *audittrail.User) error {
	_, err := tx.exec(`
		INSERT INTO users (account_id, id, login_name, name, email, profile_id, enabled, password_hash, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		u.AccountID, u.ID, u.LoginName, u.Name, u.Email, u.ProfileID, u.Enabled, u.PasswordHash, u.CreatedAt, u.UpdatedAt)
	return translate(err, "", txkit.LoginTaken(u.LoginName))
}

// UpdateUser stores every field of u but its created time, which it sets as
// stored; its profile is one of its account's. Returns ENOTFOUND,
// EALREADYEXISTS when the login name is taken.
func (tx *txn) UpdateUser(u *audittrail.User) error {
	err := tx.queryRow(`
		UPDATE users SET login_name = $1, name = $2, email = $3, profile_id = $4, enabled = $5, password_hash = $6, updated_at = $7
		WHERE account_id = $8 AND id = $9
		RETURNING created_at`,
		u.LoginName, u.Name, u.Email, u.ProfileID, u.Enabled, u.PasswordHash, u.UpdatedAt, u.AccountID, u.ID).Scan(&u.CreatedAt)
	u.CreatedAt = utc(u.CreatedAt)
	return translate(err, txkit.UserNotFound(u.ID), txkit.LoginTaken(u.LoginName))
}

// DeleteUser deletes the user and their tokens. Returns ENOTFOUND.
func (tx *txn) DeleteUser(accountID, id string) error {
	if _, err := tx.exec(`DELETE FROM tokens WHERE account_id = $1 AND user_id = $2`, accountID, id); err != nil {
		return err
	}
	err := tx.queryRow(`DELETE FROM users WHERE account_id = $1 AND id = $2 RETURNING id`, accountID, id).Scan(&id)
	return translate(err, txkit.UserNotFound(id), "")
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
