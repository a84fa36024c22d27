package http

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/audittrail/audittrail"
)

// accountRequest is the body of POST /api/v1/accounts.
type accountRequest struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Timezone string `json:"timezone"`
	Admin    struct {
		LoginName string `json:"login_name"`
		Name      string `json:"name"`
		Email     string `json:"email"`
		Password  string `json:"password"`
	} `json:"admin"`
}

type accountWithAdmin struct {
	*audittrail.Account
	Admin *audittrail.User `json:"admin"`
}

func (s *Server) handleCreateAccount(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	var req accountRequest
	if err := decodeJSON(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	if req.Timezone == "" {
		req.Timezone = "UTC"
	}
	if req.Admin.Name == "" {
		req.Admin.Name = req.Admin.LoginName
	}
	if err := firstError(
		audittrail.ValidateAccountID(req.ID),
		requireText("name", req.Name, 200),
		audittrail.ValidateTimezone(req.Timezone),
		requireText("admin.login_name", req.Admin.LoginName, 128),
		optionalText("admin.name", req.Admin.Name, 512),
		optionalText("admin.email", req.Admin.Email, 320),
		audittrail.ValidatePassword(req.Admin.Password),
	); err != nil {
		s.Error(w, r, err)
		return
	}
	acct, admin := audittrail.NewAccount(req.ID, req.Name, req.Timezone, s.Now())
	profiles := audittrail.BuiltinProfiles(acct.ID, acct.CreatedAt)
	admin.LoginName, admin.Name, admin.Email = req.Admin.LoginName, req.Admin.Name, req.Admin.Email
	admin.ProfileID = profiles[0].ID
	admin.PasswordHash = audittrail.HashPassword(req.Admin.Password)
	if err := s.Store.CreateAccount(r.Context(), acct, profiles, admin); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, accountWithAdmin{acct, admin})
}

func (s *Server) handleGetAccount(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	acct, err := s.Store.FindAccount(r.Context(), r.PathValue("account"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, acct)
}

func (s *Server) handlePatchAccount(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	var upd audittrail.AccountUpdate
	if err := decodeJSON(r, &upd); err != nil {
		s.Error(w, r, err)
		return
	}
	if upd.Name != nil {
		if err := requireText("name", *upd.Name, 200); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	if upd.Timezone != nil {
		if err := audittrail.ValidateTimezone(*upd.Timezone); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	before, err := s.Store.FindAccount(r.Context(), r.PathValue("account"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	after := *before
	if upd.Name != nil {
		after.Name = *upd.Name
	}
	if upd.Timezone != nil {
		after.Timezone = *upd.Timezone
	}
	if upd.AuditTrailEnabled != nil {
		after.AuditTrailEnabled = *upd.AuditTrailEnabled
	}
	audit, err := s.Ingester.ServiceChange(before.ID, audittrail.TypeAccountSettings, before.ID, after.Name,
		audittrail.AccountSnapshot(before), audittrail.AccountSnapshot(&after), p.Originator())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	acct, err := s.Store.UpdateAccount(r.Context(), before.ID, upd, audit...)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, acct)
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
