package service

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/audittrail/audittrail"
)

// AccountInput is what creating an account takes (POST /api/v1/accounts).
type AccountInput struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Timezone string     `json:"timezone"`
	Admin    AdminInput `json:"admin"`
}

// AdminInput is the first administrator of a new account.
type AdminInput struct {
	LoginName string `json:"login_name"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Password  string `json:"password"`
}

// Limits of the text fields of accounts and people, in characters.
const (
	MaxAccountName = 200
	MaxLoginName   = 128
	MaxUserName    = 512
	MaxEmail       = 320
	MaxProfileID   = 64
	MaxKeyName     = 64
)

// CreateAccount creates an account, its built-in profiles and its first
// administrator (SPEC §4), its audit trail off. Only the operator may.
// The timezone defaults to UTC, the administrator's name to their login
// name. Returns EVALIDATION, EVALUETOOLONG, EALREADYEXISTS.
func (s *Service) CreateAccount(ctx context.Context, p *audittrail.Principal, in AccountInput) (*audittrail.Account, *audittrail.User, error) {
	if err := Authorize(p, Operator, ""); err != nil {
		return nil, nil, err
	}
	if in.Timezone == "" {
		in.Timezone = "UTC"
	}
	if in.Admin.Name == "" {
		in.Admin.Name = in.Admin.LoginName
	}
	if err := firstError(
		audittrail.ValidateAccountID(in.ID),
		requireText("name", in.Name, MaxAccountName),
		audittrail.ValidateTimezone(in.Timezone),
		requireText("admin.login_name", in.Admin.LoginName, MaxLoginName),
		optionalText("admin.name", in.Admin.Name, MaxUserName),
		optionalText("admin.email", in.Admin.Email, MaxEmail),
		audittrail.ValidatePassword(in.Admin.Password),
	); err != nil {
		return nil, nil, err
	}
	acct, admin := audittrail.NewAccount(in.ID, in.Name, in.Timezone, s.now())
	profiles := audittrail.BuiltinProfiles(acct.ID, acct.CreatedAt)
	admin.LoginName, admin.Name, admin.Email = in.Admin.LoginName, in.Admin.Name, in.Admin.Email
	admin.ProfileID = profiles[0].ID
	admin.PasswordHash = audittrail.HashPassword(in.Admin.Password)
	if err := s.store.CreateAccount(ctx, acct, profiles, admin); err != nil {
		return nil, nil, err
	}
	return acct, admin, nil
}

// FindAccount returns the account; its administrators may read it.
// Returns ENOTFOUND.
func (s *Service) FindAccount(ctx context.Context, p *audittrail.Principal, id string) (*audittrail.Account, error) {
	if err := Authorize(p, Administrator, id); err != nil {
		return nil, err
	}
	return s.store.FindAccount(ctx, id)
}

// OwnAccount returns the account of the signed-in user p, whatever their
// profile: its name and time zone are what every page of theirs shows.
func (s *Service) OwnAccount(ctx context.Context, p *audittrail.Principal) (*audittrail.Account, error) {
	if err := Authorize(p, AnyUser, ""); err != nil {
		return nil, err
	}
	return s.store.FindAccount(ctx, p.AccountID)
}

// UpdateAccount changes an account's settings (its administrators may):
// name, timezone, and the audit trail on or off. Turning the trail on when
// it is off dates its enabling now; nothing before that moment is ever
// recorded. The change is recorded under account_settings (SPEC §4).
// Returns ENOTFOUND, EVALIDATION, EVALUETOOLONG.
func (s *Service) UpdateAccount(ctx context.Context, p *audittrail.Principal, id string, upd audittrail.AccountUpdate) (*audittrail.Account, error) {
	if err := Authorize(p, Administrator, id); err != nil {
		return nil, err
	}
	if upd.Name != nil {
		if err := requireText("name", *upd.Name, MaxAccountName); err != nil {
			return nil, err
		}
	}
	if upd.Timezone != nil {
		if err := audittrail.ValidateTimezone(*upd.Timezone); err != nil {
			return nil, err
		}
	}
	var out *audittrail.Account
	err := s.store.Change(ctx, id, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
		before, err := tx.FindAccount(id)
		if err != nil {
			return nil, err
		}
		after := *before
		if upd.Name != nil {
			after.Name = *upd.Name
		}
		if upd.Timezone != nil {
			after.Timezone = *upd.Timezone
		}
		if upd.AuditTrailEnabled != nil {
			if *upd.AuditTrailEnabled && !before.AuditTrailEnabled {
				now := tx.Now()
				after.AuditTrailEnabledAt = &now
			}
			after.AuditTrailEnabled = *upd.AuditTrailEnabled
		}
		audit, err := s.ingester.ServiceChange(id, audittrail.TypeAccountSettings, id, after.Name,
			audittrail.AccountSnapshot(before), audittrail.AccountSnapshot(&after), p.Originator())
		if err != nil {
			return nil, err
		}
		if err := tx.UpdateAccount(&after); err != nil {
			return nil, err
		}
		out = &after
		return audit, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// requireText checks a required text field of at most max characters.
func requireText(field, v string, max int) error {
	if strings.TrimSpace(v) == "" {
		return audittrail.Errorf(audittrail.EVALIDATION, "%s is required", field)
	}
	return optionalText(field, v, max)
}

// optionalText checks a text field of at most max characters.
func optionalText(field, v string, max int) error {
	if utf8.RuneCountInString(v) > max {
		return audittrail.Errorf(audittrail.EVALUETOOLONG, "%s is longer than %d characters", field, max)
	}
	return nil
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
