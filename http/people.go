package http

import (
	"net/http"
	"slices"

	"github.com/audittrail/audittrail"
)

// userRequest is the body of POST and PATCH .../users; nil fields are
// unchanged on PATCH. password is write-only: no answer ever holds it.
type userRequest struct {
	LoginName *string `json:"login_name"`
	Name      *string `json:"name"`
	Email     *string `json:"email"`
	ProfileID *string `json:"profile_id"`
	Enabled   *bool   `json:"enabled"`
	Password  *string `json:"password"`
}

// apply copies the request's fields onto u and checks them.
func (req *userRequest) apply(u *audittrail.User) error {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&u.LoginName, req.LoginName)
	set(&u.Name, req.Name)
	set(&u.Email, req.Email)
	set(&u.ProfileID, req.ProfileID)
	if req.Enabled != nil {
		u.Enabled = *req.Enabled
	}
	if req.Password != nil {
		if err := audittrail.ValidatePassword(*req.Password); err != nil {
			return err
		}
		u.PasswordHash = audittrail.HashPassword(*req.Password)
	}
	return firstError(
		requireText("login_name", u.LoginName, 128),
		requireText("name", u.Name, 512),
		optionalText("email", u.Email, 320),
		requireText("profile_id", u.ProfileID, 64),
	)
}

func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	users, err := s.Store.FindUsers(r.Context(), r.PathValue("account"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if users == nil {
		users = []*audittrail.User{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": users})
}

func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	u, err := s.Store.FindUser(r.Context(), r.PathValue("account"), r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	var req userRequest
	if err := decodeJSON(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	now := audittrail.TruncateTime(s.Now())
	u := &audittrail.User{ID: audittrail.NewID("usr_"), AccountID: r.PathValue("account"), Enabled: true, CreatedAt: now, UpdatedAt: now}
	if req.Name == nil {
		req.Name = req.LoginName
	}
	if req.Password == nil {
		s.Error(w, r, audittrail.Errorf(audittrail.EVALIDATION, "password is required"))
		return
	}
	if err := req.apply(u); err != nil {
		s.Error(w, r, err)
		return
	}
	audit, err := s.auditUser(r, p, nil, u)
	if err == nil {
		err = s.Store.CreateUser(r.Context(), u, audit...)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, u)
}

func (s *Server) handlePatchUser(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	var req userRequest
	if err := decodeJSON(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	before, err := s.Store.FindUser(r.Context(), r.PathValue("account"), r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	u := *before
	if err := req.apply(&u); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.checkSelfLockout(r, p, &u); err != nil {
		s.Error(w, r, err)
		return
	}
	audit, err := s.auditUser(r, p, before, &u)
	if err == nil {
		err = s.Store.UpdateUser(r.Context(), &u, audit...)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, &u)
}

func (s *Server) handleDeleteUser(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	before, err := s.Store.FindUser(r.Context(), r.PathValue("account"), r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if p.User != nil && p.User.ID == before.ID {
		s.Error(w, r, audittrail.Errorf(audittrail.ECONFLICT, "you cannot delete your own user: another administrator of the account can"))
		return
	}
	audit, err := s.auditUser(r, p, before, nil)
	if err == nil {
		err = s.Store.DeleteUser(r.Context(), before.AccountID, before.ID, audit...)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// checkSelfLockout refuses a change by which administrators would lock
// themselves out of the account: disabling their own user, or giving it a
// profile without the administrator role. Another administrator can.
func (s *Server) checkSelfLockout(r *http.Request, p *audittrail.Principal, u *audittrail.User) error {
	if p.User == nil || p.User.ID != u.ID {
		return nil
	}
	if !u.Enabled {
		return audittrail.Errorf(audittrail.ECONFLICT, "you cannot disable your own user: another administrator of the account can")
	}
	if u.ProfileID == p.User.ProfileID {
		return nil
	}
	prof, err := s.Store.FindProfile(r.Context(), u.AccountID, u.ProfileID)
	if err != nil {
		return nil // auditUser reports a profile that does not exist
	}
	if prof.Role != audittrail.RoleAdministrator {
		return audittrail.Errorf(audittrail.ECONFLICT, "you cannot give your own user a profile without the administrator role: another administrator of the account can")
	}
	return nil
}

// auditUser returns the records of a change to a user (before or after nil
// for an add or a delete), naming the profile rather than its id.
func (s *Server) auditUser(r *http.Request, p *audittrail.Principal, before, after *audittrail.User) ([]audittrail.Entry, error) {
	snapshot := func(u *audittrail.User) (map[string]any, error) {
		if u == nil {
			return nil, nil
		}
		prof, err := s.Store.FindProfile(r.Context(), u.AccountID, u.ProfileID)
		if audittrail.ErrorCode(err) == audittrail.ENOTFOUND {
			return nil, audittrail.Errorf(audittrail.EVALIDATION, "profile %q does not exist in this account", clip(u.ProfileID))
		} else if err != nil {
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
	return s.Ingester.ServiceChange(u.AccountID, audittrail.TypeUsers, u.ID, u.Name, b, a, p.Originator())
}

// profileRequest is the body of POST and PATCH .../profiles; nil fields are
// unchanged on PATCH.
type profileRequest struct {
	Name        *string   `json:"name"`
	Description *string   `json:"description"`
	Role        *string   `json:"role"`
	Permissions *[]string `json:"permissions"`
}

func (req *profileRequest) apply(p *audittrail.Profile) error {
	if req.Name != nil {
		p.Name = *req.Name
	}
	if req.Description != nil {
		p.Description = *req.Description
	}
	if req.Role != nil {
		p.Role = *req.Role
	}
	if req.Permissions != nil {
		p.Permissions = slices.Compact(slices.Sorted(slices.Values(*req.Permissions)))
	}
	return audittrail.ValidateProfile(p)
}

func (s *Server) handleListProfiles(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	ps, err := s.Store.FindProfiles(r.Context(), r.PathValue("account"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if ps == nil {
		ps = []*audittrail.Profile{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"profiles": ps})
}

func (s *Server) handleGetProfile(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	p, err := s.Store.FindProfile(r.Context(), r.PathValue("account"), r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) handleCreateProfile(w http.ResponseWriter, r *http.Request, who *audittrail.Principal) {
	var req profileRequest
	if err := decodeJSON(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	now := audittrail.TruncateTime(s.Now())
	p := &audittrail.Profile{ID: audittrail.NewID("prf_"), AccountID: r.PathValue("account"), Permissions: []string{}, CreatedAt: now, UpdatedAt: now}
	if err := req.apply(p); err != nil {
		s.Error(w, r, err)
		return
	}
	audit, err := s.Ingester.ServiceChange(p.AccountID, audittrail.TypeProfiles, p.ID, p.Name, nil, audittrail.ProfileSnapshot(p), who.Originator())
	if err == nil {
		err = s.Store.CreateProfile(r.Context(), p, audit...)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, p)
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

func (s *Server) handlePatchProfile(w http.ResponseWriter, r *http.Request, who *audittrail.Principal) {
	var req profileRequest
	if err := decodeJSON(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	before, err := s.Store.FindProfile(r.Context(), r.PathValue("account"), r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if isAdministratorProfile(before) {
		s.Error(w, r, errAdministratorProfile())
		return
	}
	p := *before
	p.Permissions = slices.Clone(before.Permissions)
	if err := req.apply(&p); err != nil {
		s.Error(w, r, err)
		return
	}
	audit, err := s.Ingester.ServiceChange(p.AccountID, audittrail.TypeProfiles, p.ID, p.Name, audittrail.ProfileSnapshot(before), audittrail.ProfileSnapshot(&p), who.Originator())
	if err == nil {
		err = s.Store.UpdateProfile(r.Context(), &p, audit...)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, &p)
}

func (s *Server) handleDeleteProfile(w http.ResponseWriter, r *http.Request, who *audittrail.Principal) {
	before, err := s.Store.FindProfile(r.Context(), r.PathValue("account"), r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if isAdministratorProfile(before) {
		s.Error(w, r, errAdministratorProfile())
		return
	}
	audit, err := s.Ingester.ServiceChange(before.AccountID, audittrail.TypeProfiles, before.ID, before.Name, audittrail.ProfileSnapshot(before), nil, who.Originator())
	if err == nil {
		err = s.Store.DeleteProfile(r.Context(), before.AccountID, before.ID, audit...)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
