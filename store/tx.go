package store

import "github.com/audittrail/audittrail"

// tx is a backend's transaction as the store hands it to the functions of
// View and Change: the Create and Update methods first set what the store
// decides for every backend alike, the ids of new rows and the times, by
// the transaction's clock.
type tx struct{ audittrail.Tx }

// CreateAccount defaults the timezone to UTC, sets the created time and,
// for an account created enabled, its enabling time.
func (t tx) CreateAccount(a *audittrail.Account) error {
	if a.Timezone == "" {
		a.Timezone = "UTC"
	}
	a.CreatedAt = t.Now()
	if a.AuditTrailEnabled && a.AuditTrailEnabledAt == nil {
		now := t.Now()
		a.AuditTrailEnabledAt = &now
	}
	return t.Tx.CreateAccount(a)
}

// CreateProfile sets p's id when empty and its created and updated times.
func (t tx) CreateProfile(p *audittrail.Profile) error {
	if p.ID == "" {
		p.ID = audittrail.NewID("prf_")
	}
	if p.Permissions == nil {
		p.Permissions = []string{}
	}
	p.CreatedAt, p.UpdatedAt = t.Now(), t.Now()
	return t.Tx.CreateProfile(p)
}

// UpdateProfile sets p's updated time; the backend sets the fields it does
// not change (BuiltIn, CreatedAt) as stored.
func (t tx) UpdateProfile(p *audittrail.Profile) error {
	if p.Permissions == nil {
		p.Permissions = []string{}
	}
	p.UpdatedAt = t.Now()
	return t.Tx.UpdateProfile(p)
}

// DeleteProfile refuses, with ECONFLICT, to delete a profile that users
// hold.
func (t tx) DeleteProfile(accountID, id string) error {
	n, err := t.CountProfileUsers(accountID, id)
	if err != nil {
		return err
	}
	switch {
	case n == 1:
		return audittrail.Errorf(audittrail.ECONFLICT, "profile %s is held by 1 user; give that user another profile first", id)
	case n > 1:
		return audittrail.Errorf(audittrail.ECONFLICT, "profile %s is held by %d users; give them another profile first", id, n)
	}
	return t.Tx.DeleteProfile(accountID, id)
}

// CreateUser sets u's id when empty and its created and updated times.
// Returns EVALIDATION when its profile is not one of its account's.
func (t tx) CreateUser(u *audittrail.User) error {
	if u.ID == "" {
		u.ID = audittrail.NewID("usr_")
	}
	if err := t.checkProfile(u); err != nil {
		return err
	}
	u.CreatedAt, u.UpdatedAt = t.Now(), t.Now()
	return t.Tx.CreateUser(u)
}

// UpdateUser sets u's updated time; the backend sets its created time as
// stored. Returns ENOTFOUND for an unknown user, EVALIDATION when its
// profile is not one of its account's.
func (t tx) UpdateUser(u *audittrail.User) error {
	if _, err := t.FindUser(u.AccountID, u.ID); err != nil {
		return err
	}
	if err := t.checkProfile(u); err != nil {
		return err
	}
	u.UpdatedAt = t.Now()
	return t.Tx.UpdateUser(u)
}

// checkProfile refuses a user whose profile is not one of its account's.
func (t tx) checkProfile(u *audittrail.User) error {
	_, err := t.FindProfile(u.AccountID, u.ProfileID)
	if audittrail.ErrorCode(err) == audittrail.ENOTFOUND {
		return audittrail.Errorf(audittrail.EVALIDATION, "profile %q does not exist in this account", u.ProfileID)
	}
	return err
}

// CreatePublisherKey sets k's id when empty and its created time; a new key
// is not revoked.
func (t tx) CreatePublisherKey(k *audittrail.PublisherKey, hash []byte) error {
	if k.ID == "" {
		k.ID = audittrail.NewID("key_")
	}
	k.CreatedAt, k.RevokedAt = t.Now(), nil
	return t.Tx.CreatePublisherKey(k, hash)
}

// CreateToken sets tok's created time when zero, and cuts its times to
// milliseconds.
func (t tx) CreateToken(tok *audittrail.Token) error {
	if tok.CreatedAt.IsZero() {
		tok.CreatedAt = t.Now()
	}
	tok.CreatedAt, tok.ExpiresAt = audittrail.TruncateTime(tok.CreatedAt), audittrail.TruncateTime(tok.ExpiresAt)
	return t.Tx.CreateToken(tok)
}
