package ui

import (
	"net/http"
	"slices"
	"strings"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/service"
)

// notices are the messages shown after a form has done its work, by the
// done= value of the page it redirects to.
var notices = map[string]string{
	"user-created":     "The user was created.",
	"user-saved":       "The user's changes were saved.",
	"user-deleted":     "The user was deleted.",
	"profile-created":  "The profile was created.",
	"profile-saved":    "The profile's changes were saved.",
	"profile-deleted":  "The profile was deleted.",
	"key-revoked":      "The publisher key was revoked. Requests signed with it are refused from now on.",
	"settings-saved":   "The account settings were saved.",
	"trail-enabled":    "The audit trail is on. Changes are recorded from now on.",
	"trail-disabled":   "The audit trail is off. Changes are not recorded until it is turned on again.",
	"password-changed": "The password was changed.",
}

// withNotice returns a view with the notice that the request's done= names.
func (h *Handler) withNotice(r *http.Request, v *view) *view {
	v.Notice = notices[r.URL.Query().Get("done")]
	return v
}

// ---- Users

type usersPage struct {
	Users []userRow
}

type userRow struct {
	U       *audittrail.User
	Profile string
	IsMe    bool
}

type userForm struct {
	U        audittrail.User
	New      bool
	IsMe     bool
	Profiles []option
}

func (h *Handler) handleUsers(w http.ResponseWriter, r *http.Request, s *session) {
	h.renderUsers(w, r, s, h.withNotice(r, h.newView(s, "Users", "users")), http.StatusOK)
}

func (h *Handler) renderUsers(w http.ResponseWriter, r *http.Request, s *session, v *view, status int) {
	users, err := h.svc.FindUsers(r.Context(), s.Principal, s.Account.ID)
	if err != nil {
		if st, ok := h.failure(w, r, err, v); ok {
			h.render(w, r, st, "users", v)
		}
		return
	}
	profiles, err := h.svc.FindProfiles(r.Context(), s.Principal, s.Account.ID)
	if err != nil {
		if st, ok := h.failure(w, r, err, v); ok {
			h.render(w, r, st, "users", v)
		}
		return
	}
	names := map[string]string{}
	for _, p := range profiles {
		names[p.ID] = p.Name
	}
	page := usersPage{}
	for _, u := range users {
		page.Users = append(page.Users, userRow{U: u, Profile: names[u.ProfileID], IsMe: u.ID == s.Principal.User.ID})
	}
	slices.SortFunc(page.Users, func(a, b userRow) int { return strings.Compare(strings.ToLower(a.U.Name), strings.ToLower(b.U.Name)) })
	v.Page = page
	h.render(w, r, status, "users", v)
}

func (h *Handler) handleNewUser(w http.ResponseWriter, r *http.Request, s *session) {
	h.renderUserForm(w, r, s, h.newView(s, "New user", "users"), http.StatusOK, audittrail.User{Enabled: true}, true)
}

func (h *Handler) handleEditUser(w http.ResponseWriter, r *http.Request, s *session) {
	v := h.withNotice(r, h.newView(s, "Edit user", "users"))
	u, err := h.svc.FindUser(r.Context(), s.Principal, s.Account.ID, r.PathValue("id"))
	if err != nil {
		h.notFoundOr(w, r, err, v, "That user does not exist, or was deleted.", "/users", "Back to Users")
		return
	}
	h.renderUserForm(w, r, s, v, http.StatusOK, *u, false)
}

// renderUserForm draws the form of a new user or of u.
func (h *Handler) renderUserForm(w http.ResponseWriter, r *http.Request, s *session, v *view, status int, u audittrail.User, isNew bool) {
	profiles, err := h.svc.FindProfiles(r.Context(), s.Principal, s.Account.ID)
	if err != nil {
		if st, ok := h.failure(w, r, err, v); ok {
			h.render(w, r, st, "error", v)
		}
		return
	}
	if u.ProfileID == "" {
		// A new user gets the least powerful built-in profile unless chosen.
		for _, p := range profiles {
			if p.BuiltIn && p.Role == audittrail.RoleAgent {
				u.ProfileID = p.ID
			}
		}
	}
	f := userForm{U: u, New: isNew, IsMe: !isNew && u.ID == s.Principal.User.ID}
	for _, p := range profiles {
		f.Profiles = append(f.Profiles, option{p.ID, p.Name + " (" + audittrail.RoleLabel(p.Role) + ")", p.ID == u.ProfileID})
	}
	v.Page = f
	h.render(w, r, status, "user_form", v)
}

// userFromForm reads the user form; password is empty when not given.
func userFromForm(r *http.Request) (u audittrail.User, password string) {
	pf := r.PostForm
	u = audittrail.User{
		LoginName: strings.TrimSpace(pf.Get("login_name")),
		Name:      strings.TrimSpace(pf.Get("name")),
		Email:     strings.TrimSpace(pf.Get("email")),
		ProfileID: pf.Get("profile_id"),
		Enabled:   pf.Get("enabled") != "",
	}
	return u, pf.Get("password")
}

func (h *Handler) handleCreateUser(w http.ResponseWriter, r *http.Request, s *session) {
	u, password := userFromForm(r)
	in := service.UserInput{LoginName: &u.LoginName, Name: &u.Name, Email: &u.Email, ProfileID: &u.ProfileID, Enabled: &u.Enabled, Password: &password}
	if _, err := h.svc.CreateUser(r.Context(), s.Principal, s.Account.ID, in); err != nil {
		v := h.newView(s, "New user", "users")
		if st, ok := h.failure(w, r, err, v); ok {
			h.renderUserForm(w, r, s, v, st, u, true)
		}
		return
	}
	http.Redirect(w, r, "/users?done=user-created", http.StatusSeeOther)
}

func (h *Handler) handleUpdateUser(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	u, password := userFromForm(r)
	u.ID = id
	in := service.UserInput{LoginName: &u.LoginName, Name: &u.Name, Email: &u.Email, ProfileID: &u.ProfileID}
	if id != s.Principal.User.ID {
		// Nobody disables themselves by mistake: the form does not offer it.
		in.Enabled = &u.Enabled
	} else {
		u.Enabled = true
	}
	if password != "" {
		in.Password = &password
	}
	if _, err := h.svc.UpdateUser(r.Context(), s.Principal, s.Account.ID, id, in); err != nil {
		v := h.newView(s, "Edit user", "users")
		if st, ok := h.failure(w, r, err, v); ok {
			if st == http.StatusNotFound {
				h.notFoundOr(w, r, err, v, "That user does not exist, or was deleted.", "/users", "Back to Users")
				return
			}
			h.renderUserForm(w, r, s, v, st, u, false)
		}
		return
	}
	http.Redirect(w, r, "/users?done=user-saved", http.StatusSeeOther)
}

func (h *Handler) handleDeleteUser(w http.ResponseWriter, r *http.Request, s *session) {
	v := h.newView(s, "Users", "users")
	if err := h.svc.DeleteUser(r.Context(), s.Principal, s.Account.ID, r.PathValue("id")); err != nil {
		if st, ok := h.failure(w, r, err, v); ok {
			h.renderUsers(w, r, s, v, st)
		}
		return
	}
	http.Redirect(w, r, "/users?done=user-deleted", http.StatusSeeOther)
}

// notFoundOr answers a failed read of one resource: a 404 page that says
// what is missing, or the failure as failure handles it.
func (h *Handler) notFoundOr(w http.ResponseWriter, r *http.Request, err error, v *view, text, back, backLabel string) {
	if audittrail.ErrorCode(err) == audittrail.ENOTFOUND {
		v.Title = "Not found"
		v.Page = errorPage{Heading: "Not found", Text: text, Link: backLabel, LinkTo: back}
		h.render(w, r, http.StatusNotFound, "error", v)
		return
	}
	if st, ok := h.failure(w, r, err, v); ok {
		v.Page = errorPage{Heading: "Something went wrong", Text: v.Error, Link: backLabel, LinkTo: back}
		v.Error = ""
		h.render(w, r, st, "error", v)
	}
}

// ---- Profiles

type profilesPage struct {
	Profiles []profileRow
}

type profileRow struct {
	P       *audittrail.Profile
	Users   int
	CanView bool
	Fixed   bool // the built-in Administrator profile
}

type profileForm struct {
	P           audittrail.Profile
	New         bool
	Fixed       bool
	Roles       []option
	CanView     bool
	ViewAllowed bool
	CanGrant    bool // the user holds View audit trail, so may give it (SPEC §4)
	Users       int
}

// isFixedProfile tells the built-in Administrator profile, which cannot be
// changed or deleted.
func isFixedProfile(p *audittrail.Profile) bool {
	return p.BuiltIn && p.Name == audittrail.AdministratorProfileName
}

func (h *Handler) handleProfiles(w http.ResponseWriter, r *http.Request, s *session) {
	h.renderProfiles(w, r, s, h.withNotice(r, h.newView(s, "Profiles", "profiles")), http.StatusOK)
}

func (h *Handler) renderProfiles(w http.ResponseWriter, r *http.Request, s *session, v *view, status int) {
	profiles, err := h.svc.FindProfiles(r.Context(), s.Principal, s.Account.ID)
	if err != nil {
		if st, ok := h.failure(w, r, err, v); ok {
			h.render(w, r, st, "profiles", v)
		}
		return
	}
	counts := h.profileUsers(r, s)
	page := profilesPage{}
	for _, p := range profiles {
		page.Profiles = append(page.Profiles, profileRow{P: p, Users: counts[p.ID], CanView: p.HasPermission(audittrail.PermissionViewAuditTrail), Fixed: isFixedProfile(p)})
	}
	v.Page = page
	h.render(w, r, status, "profiles", v)
}

// profileUsers counts the users of each profile (nil if they cannot be read).
func (h *Handler) profileUsers(r *http.Request, s *session) map[string]int {
	users, err := h.svc.FindUsers(r.Context(), s.Principal, s.Account.ID)
	if err != nil {
		return nil
	}
	counts := map[string]int{}
	for _, u := range users {
		counts[u.ProfileID]++
	}
	return counts
}

func (h *Handler) handleNewProfile(w http.ResponseWriter, r *http.Request, s *session) {
	h.renderProfileForm(w, r, s, h.newView(s, "New profile", "profiles"), http.StatusOK, audittrail.Profile{Role: audittrail.RoleAgent}, true)
}

func (h *Handler) handleEditProfile(w http.ResponseWriter, r *http.Request, s *session) {
	v := h.withNotice(r, h.newView(s, "Edit profile", "profiles"))
	p, err := h.svc.FindProfile(r.Context(), s.Principal, s.Account.ID, r.PathValue("id"))
	if err != nil {
		h.notFoundOr(w, r, err, v, "That profile does not exist, or was deleted.", "/profiles", "Back to Profiles")
		return
	}
	h.renderProfileForm(w, r, s, v, http.StatusOK, *p, false)
}

func (h *Handler) renderProfileForm(w http.ResponseWriter, r *http.Request, s *session, v *view, status int, p audittrail.Profile, isNew bool) {
	f := profileForm{
		P:           p,
		New:         isNew,
		Fixed:       !isNew && isFixedProfile(&p),
		CanView:     p.HasPermission(audittrail.PermissionViewAuditTrail),
		ViewAllowed: p.Role == audittrail.RoleAdministrator,
		CanGrant:    s.Principal.Can(audittrail.PermissionViewAuditTrail),
	}
	if !isNew {
		f.Users = h.profileUsers(r, s)[p.ID]
	}
	for _, role := range audittrail.Roles {
		f.Roles = append(f.Roles, option{role, audittrail.RoleLabel(role), role == p.Role})
	}
	v.Page = f
	h.render(w, r, status, "profile_form", v)
}

// profileFromForm reads the profile form.
func profileFromForm(r *http.Request) audittrail.Profile {
	pf := r.PostForm
	p := audittrail.Profile{
		Name:        strings.TrimSpace(pf.Get("name")),
		Description: strings.TrimSpace(pf.Get("description")),
		Role:        pf.Get("role"),
		Permissions: []string{},
	}
	for _, perm := range pf["permissions"] {
		if !slices.Contains(p.Permissions, perm) {
			p.Permissions = append(p.Permissions, perm)
		}
	}
	return p
}

// profileInput is the change of the profile form: every field set.
func profileInput(p *audittrail.Profile) service.ProfileInput {
	return service.ProfileInput{Name: &p.Name, Description: &p.Description, Role: &p.Role, Permissions: &p.Permissions}
}

func (h *Handler) handleCreateProfile(w http.ResponseWriter, r *http.Request, s *session) {
	p := profileFromForm(r)
	if _, err := h.svc.CreateProfile(r.Context(), s.Principal, s.Account.ID, profileInput(&p)); err != nil {
		v := h.newView(s, "New profile", "profiles")
		if st, ok := h.failure(w, r, err, v); ok {
			h.renderProfileForm(w, r, s, v, st, p, true)
		}
		return
	}
	http.Redirect(w, r, "/profiles?done=profile-created", http.StatusSeeOther)
}

func (h *Handler) handleUpdateProfile(w http.ResponseWriter, r *http.Request, s *session) {
	p := profileFromForm(r)
	p.ID = r.PathValue("id")
	if _, err := h.svc.UpdateProfile(r.Context(), s.Principal, s.Account.ID, p.ID, profileInput(&p)); err != nil {
		v := h.newView(s, "Edit profile", "profiles")
		if st, ok := h.failure(w, r, err, v); ok {
			if st == http.StatusNotFound {
				h.notFoundOr(w, r, err, v, "That profile does not exist, or was deleted.", "/profiles", "Back to Profiles")
				return
			}
			h.renderProfileForm(w, r, s, v, st, p, false)
		}
		return
	}
	http.Redirect(w, r, "/profiles?done=profile-saved", http.StatusSeeOther)
}

func (h *Handler) handleDeleteProfile(w http.ResponseWriter, r *http.Request, s *session) {
	v := h.newView(s, "Profiles", "profiles")
	if err := h.svc.DeleteProfile(r.Context(), s.Principal, s.Account.ID, r.PathValue("id")); err != nil {
		if st, ok := h.failure(w, r, err, v); ok {
			h.renderProfiles(w, r, s, v, st)
		}
		return
	}
	http.Redirect(w, r, "/profiles?done=profile-deleted", http.StatusSeeOther)
}
