package service

import (
	"context"
	"slices"

	"github.com/audittrail/audittrail"
)

// UserInput holds the fields of a user that a create or an update sets;
// nil fields are unchanged on update. Password is write-only: no answer
// ever holds it.
type UserInput struct {
	LoginName *string `json:"login_name"`
	Name      *string `json:"name"`
	Email     *string `json:"email"`
	ProfileID *string `json:"profile_id"`
	Enabled   *bool   `json:"enabled"`
	Password  *string `json:"password"`
}

// hashPassword checks and hashes the input's new password, if it has one,
// before any transaction: Argon2id is slow on purpose, and no lock should
// wait for it.
func (in *UserInput) hashPassword() (string, error) {
	if in.Password == nil {
		return "", nil
	}
	if err := audittrail.ValidatePassword(*in.Password); err != nil {
		return "", err
	}
	return audittrail.HashPassword(*in.Password), nil
}

// apply copies the input's fields onto u, with the password's hash, and
// checks them.
func (in *UserInput) apply(u *audittrail.User, passwordHash string) error {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&u.LoginName, in.LoginName)
	set(&u.Name, in.Name)
	set(&u.Email, in.Email)
	set(&u.ProfileID, in.ProfileID)
	if in.Enabled != nil {
		u.Enabled = *in.Enabled
	}
	if passwordHash != "" {
		u.PasswordHash = passwordHash
	}
	return firstError(
		requireText("login_name", u.LoginName, MaxLoginName),
		requireText("name", u.Name, MaxUserName),
		optionalText("email", u.Email, MaxEmail),
		requireText("profile_id", u.ProfileID, MaxProfileID),
	)
}

// FindUsers returns the users of the account. Administrators only.
func (s *Service) FindUsers(ctx context.Context, p *audittrail.Principal, accountID string) ([]*audittrail.User, error) {
	return readList(ctx, s, p, Administrator, accountID, func(tx audittrail.Tx) ([]*audittrail.User, error) { return tx.FindUsers(accountID) })
}

// FindUser returns a user of the account. Returns ENOTFOUND.
func (s *Service) FindUser(ctx context.Context, p *audittrail.Principal, accountID, id string) (*audittrail.User, error) {
	return read(ctx, s, p, Administrator, accountID, func(tx audittrail.Tx) (*audittrail.User, error) { return tx.FindUser(accountID, id) })
}

// CreateUser adds a user to the account, enabled, named by their login
// name unless given a name; a password is required. Recorded under users.
// Returns EVALIDATION, EVALUETOOLONG, EALREADYEXISTS.
func (s *Service) CreateUser(ctx context.Context, p *audittrail.Principal, accountID string, in UserInput) (*audittrail.User, error) {
	if err := Authorize(p, Administrator, accountID); err != nil {
		return nil, err
	}
	if in.Name == nil {
		in.Name = in.LoginName
	}
	if in.Password == nil {
		return nil, audittrail.Errorf(audittrail.EVALIDATION, "password is required")
	}
	hash, err := in.hashPassword()
	if err != nil {
		return nil, err
	}
	u := &audittrail.User{ID: audittrail.NewID("usr_"), AccountID: accountID, Enabled: true}
	if err := in.apply(u, hash); err != nil {
		return nil, err
	}
	err = s.store.Change(ctx, accountID, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
		ps := newProfiles(tx)
		if err := checkGrant(ps, p, nil, u); err != nil {
			return nil, err
		}
		audit, err := s.auditUser(ps, p, nil, u)
		if err != nil {
			return nil, err
		}
		return audit, tx.CreateUser(u)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// UpdateUser changes a user of the account. Only a holder of
// audit_trail.view may give a user a profile that holds it (EFORBIDDEN).
// Administrators cannot lock
// themselves out: disable their own user or give it a profile without the
// administrator role (ECONFLICT; another administrator can). A new
// password, disabling the user or another profile ends every token and UI
// session of the user in the same transaction, the acting user's own
// included when they change their own password. The user is
// read, checked, diffed and written in one transaction, so that concurrent
// updates never lose a change and the trail's old values are always the
// values that were stored. Returns ENOTFOUND, EVALIDATION, EVALUETOOLONG,
// EALREADYEXISTS, ECONFLICT.
func (s *Service) UpdateUser(ctx context.Context, p *audittrail.Principal, accountID, id string, in UserInput) (*audittrail.User, error) {
	if err := Authorize(p, Administrator, accountID); err != nil {
		return nil, err
	}
	hash, err := in.hashPassword()
	if err != nil {
		return nil, err
	}
	var out *audittrail.User
	err = s.store.Change(ctx, accountID, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
		before, err := tx.FindUser(accountID, id)
		if err != nil {
			return nil, err
		}
		u := *before
		if err := in.apply(&u, hash); err != nil {
			return nil, err
		}
		ps := newProfiles(tx)
		if err := checkSelfLockout(ps, p, &u); err != nil {
			return nil, err
		}
		if err := checkGrant(ps, p, before, &u); err != nil {
			return nil, err
		}
		audit, err := s.auditUser(ps, p, before, &u)
		if err != nil {
			return nil, err
		}
		if err := tx.UpdateUser(&u); err != nil {
			return nil, err
		}
		if endsSessions(before, &u, in) {
			if err := tx.DeleteUserTokens(accountID, u.ID); err != nil {
				return nil, err
			}
		}
		out = &u
		return audit, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// endsSessions tells whether a change of a user ends every token and UI
// session of the user (SPEC §5 Revocation): a new password, the user
// disabled, or another profile. A token ended so is gone: enabling the
// user again does not bring it back. Any change of a user who is or was
// disabled ends them too, so that tokens kept from before revocation
// existed do not come back with the user either.
func endsSessions(before, after *audittrail.User, in UserInput) bool {
	return in.Password != nil || !before.Enabled || !after.Enabled || before.ProfileID != after.ProfileID
}

// DeleteUser deletes a user of the account and their tokens; nobody
// deletes their own user (ECONFLICT). Returns ENOTFOUND, ECONFLICT.
func (s *Service) DeleteUser(ctx context.Context, p *audittrail.Principal, accountID, id string) error {
	if err := Authorize(p, Administrator, accountID); err != nil {
		return err
	}
	return s.store.Change(ctx, accountID, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
		before, err := tx.FindUser(accountID, id)
		if err != nil {
			return nil, err
		}
		if p.User != nil && p.User.ID == before.ID {
			return nil, audittrail.Errorf(audittrail.ECONFLICT, "you cannot delete your own user: another administrator of the account can")
		}
		audit, err := s.auditUser(newProfiles(tx), p, before, nil)
		if err != nil {
			return nil, err
		}
		return audit, tx.DeleteUser(accountID, id)
	})
}

// checkSelfLockout refuses a change by which administrators would lock
// themselves out of the account: disabling their own user, or giving it a
// profile without the administrator role. Another administrator can.
func checkSelfLockout(ps *profiles, p *audittrail.Principal, u *audittrail.User) error {
	if p.User == nil || p.User.ID != u.ID {
		return nil
	}
	if !u.Enabled {
		return audittrail.Errorf(audittrail.ECONFLICT, "you cannot disable your own user: another administrator of the account can")
	}
	if u.ProfileID == p.User.ProfileID {
		return nil
	}
	prof, err := ps.of(u)
	if err != nil {
		return err
	}
	if prof.Role != audittrail.RoleAdministrator {
		return audittrail.Errorf(audittrail.ECONFLICT, "you cannot give your own user a profile without the administrator role: another administrator of the account can")
	}
	return nil
}

// errGrant refuses to give audit_trail.view to a principal that does not
// hold it (SPEC §4, "Granting the permission").
func errGrant() error {
	return audittrail.Errorf(audittrail.EFORBIDDEN, "only a user who holds the %s permission can grant it: ask an administrator who can view the audit trail", audittrail.PermissionViewAuditTrail)
}

// checkGrant applies the granting rule to a user given a profile (before
// nil for a new user): giving anyone, oneself included, a profile that
// holds audit_trail.view needs the acting principal to hold it.
func checkGrant(ps *profiles, p *audittrail.Principal, before, after *audittrail.User) error {
	if canGrant(p) {
		return nil
	}
	if before != nil && (before.PasswordHash != after.PasswordHash || before.LoginName != after.LoginName) {
		// Setting a holder's password (or login name) would give the
		// permission to whoever sets it: the rule covers it too.
		held, err := ps.of(before)
		if err != nil {
			return err
		}
		if held.HasPermission(audittrail.PermissionViewAuditTrail) {
			return audittrail.Errorf(audittrail.EFORBIDDEN, "only a user who holds the %s permission can grant it, or change the password or login name of a user who holds it: ask an administrator who can view the audit trail", audittrail.PermissionViewAuditTrail)
		}
	}
	if before != nil && before.ProfileID == after.ProfileID {
		return nil
	}
	prof, err := ps.of(after)
	if err != nil {
		return err
	}
	if prof.HasPermission(audittrail.PermissionViewAuditTrail) {
		return errGrant()
	}
	return nil
}

// checkProfileGrant applies the granting rule to a profile (before nil for
// a new one): making it hold audit_trail.view, or changing the permissions
// of a profile that holds it, needs the acting principal to hold it.
func checkProfileGrant(p *audittrail.Principal, before, after *audittrail.Profile) error {
	if canGrant(p) {
		return nil
	}
	holds := after.HasPermission(audittrail.PermissionViewAuditTrail)
	if before == nil {
		if holds {
			return errGrant()
		}
		return nil
	}
	held := before.HasPermission(audittrail.PermissionViewAuditTrail)
	if (holds && !held) || (held && !slices.Equal(before.Permissions, after.Permissions)) {
		return errGrant()
	}
	return nil
}

// canGrant reports whether p may give audit_trail.view: a user who holds
// it, or the command line.
func canGrant(p *audittrail.Principal) bool {
	return p.Kind == audittrail.PrincipalLocal || p.Can(audittrail.PermissionViewAuditTrail)
}

// profiles finds the profiles of the users of one change, in its
// transaction, each once: the self-lockout rule, the granting rule and the
// audit snapshots all look at the same ones.
type profiles struct {
	tx audittrail.Tx
	m  map[string]*audittrail.Profile
}

func newProfiles(tx audittrail.Tx) *profiles {
	return &profiles{tx: tx, m: map[string]*audittrail.Profile{}}
}

// of returns u's profile; EVALIDATION when it is not one of the account's.
func (ps *profiles) of(u *audittrail.User) (*audittrail.Profile, error) {
	if prof, ok := ps.m[u.ProfileID]; ok {
		return prof, nil
	}
	prof, err := ps.tx.FindProfile(u.AccountID, u.ProfileID)
	if audittrail.ErrorCode(err) == audittrail.ENOTFOUND {
		return nil, audittrail.Errorf(audittrail.EVALIDATION, "profile %q does not exist in this account", audittrail.Clip(u.ProfileID))
	} else if err != nil {
		return nil, err
	}
	ps.m[u.ProfileID] = prof
	return prof, nil
}

// auditUser returns the records of a change to a user (before or after nil
// for an add or a delete), naming the profile rather than its id.
func (s *Service) auditUser(ps *profiles, p *audittrail.Principal, before, after *audittrail.User) ([]audittrail.Entry, error) {
	snapshot := func(u *audittrail.User) (map[string]any, error) {
		if u == nil {
			return nil, nil
		}
		prof, err := ps.of(u)
		if err != nil {
			return nil, err
		}
		return audittrail.UserSnapshot(u, prof.Name), nil
	}
	b, err := snapshot(before)
	if err != nil {
		return nil, err
	}
	a, err := snapshot(after)
	if err != nil {
		return nil, err
	}
	u := after
	if u == nil {
		u = before
	}
	return s.ingester.ServiceChange(u.AccountID, audittrail.TypeUsers, u.ID, u.Name, b, a, p.Originator())
}

// ProfileInput holds the fields of a profile that a create or an update
// sets; nil fields are unchanged on update.
type ProfileInput struct {
	Name        *string   `json:"name"`
	Description *string   `json:"description"`
	Role        *string   `json:"role"`
	Permissions *[]string `json:"permissions"`
}

func (in *ProfileInput) apply(p *audittrail.Profile) error {
	if in.Name != nil {
		p.Name = *in.Name
	}
	if in.Description != nil {
		p.Description = *in.Description
	}
	if in.Role != nil {
		p.Role = *in.Role
	}
	if in.Permissions != nil {
		p.Permissions = slices.Compact(slices.Sorted(slices.Values(*in.Permissions)))
	}
	return audittrail.ValidateProfile(p)
}

// FindProfiles returns the profiles of the account. Administrators only.
func (s *Service) FindProfiles(ctx context.Context, p *audittrail.Principal, accountID string) ([]*audittrail.Profile, error) {
	return readList(ctx, s, p, Administrator, accountID, func(tx audittrail.Tx) ([]*audittrail.Profile, error) { return tx.FindProfiles(accountID) })
}

// FindProfile returns a profile of the account. Returns ENOTFOUND.
func (s *Service) FindProfile(ctx context.Context, p *audittrail.Principal, accountID, id string) (*audittrail.Profile, error) {
	return read(ctx, s, p, Administrator, accountID, func(tx audittrail.Tx) (*audittrail.Profile, error) { return tx.FindProfile(accountID, id) })
}

// CreateProfile adds a custom profile to the account. Only a holder of
// audit_trail.view may make one that holds it (EFORBIDDEN). Recorded under
// permissions. Returns EVALIDATION, EVALUETOOLONG,
// EPERMISSIONNOTALLOWED, EALREADYEXISTS.
func (s *Service) CreateProfile(ctx context.Context, p *audittrail.Principal, accountID string, in ProfileInput) (*audittrail.Profile, error) {
	if err := Authorize(p, Administrator, accountID); err != nil {
		return nil, err
	}
	prof := &audittrail.Profile{ID: audittrail.NewID("prf_"), AccountID: accountID, Permissions: []string{}}
	if err := in.apply(prof); err != nil {
		return nil, err
	}
	if err := checkProfileGrant(p, nil, prof); err != nil {
		return nil, err
	}
	err := s.store.Change(ctx, accountID, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
		audit, err := s.ingester.ServiceChange(accountID, audittrail.TypeProfiles, prof.ID, prof.Name, nil, audittrail.ProfileSnapshot(prof), p.Originator())
		if err != nil {
			return nil, err
		}
		return audit, tx.CreateProfile(prof)
	})
	if err != nil {
		return nil, err
	}
	return prof, nil
}

// errAdministratorProfile refuses changes to the built-in Administrator
// profile, so that an account always keeps a profile that can administer it.
func errAdministratorProfile() error {
	return audittrail.Errorf(audittrail.EFORBIDDEN, "the built-in Administrator profile cannot be changed or deleted; create a custom profile instead")
}

// isAdministratorProfile tells the built-in Administrator profile: built
// in, and named so (profile names are unique in an account, and this one's
// name cannot change).
func isAdministratorProfile(p *audittrail.Profile) bool {
	return p.BuiltIn && p.Name == audittrail.AdministratorProfileName
}

// UpdateProfile changes a profile of the account, read, diffed and written
// in one transaction. The built-in Administrator profile cannot change
// (EFORBIDDEN). Returns ENOTFOUND, EVALIDATION, EVALUETOOLONG,
// EPERMISSIONNOTALLOWED, EALREADYEXISTS, EFORBIDDEN.
func (s *Service) UpdateProfile(ctx context.Context, p *audittrail.Principal, accountID, id string, in ProfileInput) (*audittrail.Profile, error) {
	if err := Authorize(p, Administrator, accountID); err != nil {
		return nil, err
	}
	var out *audittrail.Profile
	err := s.store.Change(ctx, accountID, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
		before, err := tx.FindProfile(accountID, id)
		if err != nil {
			return nil, err
		}
		if isAdministratorProfile(before) {
			return nil, errAdministratorProfile()
		}
		prof := *before
		prof.Permissions = slices.Clone(before.Permissions)
		if err := in.apply(&prof); err != nil {
			return nil, err
		}
		if err := checkProfileGrant(p, before, &prof); err != nil {
			return nil, err
		}
		audit, err := s.ingester.ServiceChange(accountID, audittrail.TypeProfiles, prof.ID, prof.Name,
			audittrail.ProfileSnapshot(before), audittrail.ProfileSnapshot(&prof), p.Originator())
		if err != nil {
			return nil, err
		}
		out = &prof
		return audit, tx.UpdateProfile(&prof)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteProfile deletes a profile that no user holds. The built-in
// Administrator profile cannot be deleted. Returns ENOTFOUND, ECONFLICT,
// EFORBIDDEN.
func (s *Service) DeleteProfile(ctx context.Context, p *audittrail.Principal, accountID, id string) error {
	if err := Authorize(p, Administrator, accountID); err != nil {
		return err
	}
	return s.store.Change(ctx, accountID, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
		before, err := tx.FindProfile(accountID, id)
		if err != nil {
			return nil, err
		}
		if isAdministratorProfile(before) {
			return nil, errAdministratorProfile()
		}
		audit, err := s.ingester.ServiceChange(accountID, audittrail.TypeProfiles, before.ID, before.Name, audittrail.ProfileSnapshot(before), nil, p.Originator())
		if err != nil {
			return nil, err
		}
		return audit, tx.DeleteProfile(accountID, id)
	})
}
