package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/service"
)

// grantRefused is what a people form shows when the granting rule (SPEC §4
// "Granting the permission") refuses its change: the service's message, on
// the form.
const grantRefused = "Only a user who holds the audit_trail.view permission can grant it"

// TestPeopleForms_GrantingThePermission checks that the people pages go
// through the service's granting rule: an administrator whose profile lacks
// audit_trail.view who tries, on a form, to give the Administrator profile
// (or any profile that holds the permission) to a user, herself included,
// or to make or change a profile so that it holds it, gets the form back
// with a 403 and a message that says only a holder can grant it, not a
// generic error page, and nothing changes. What else she does on those
// forms is hers to do.
func TestPeopleForms_GrantingThePermission(t *testing.T) {
	f := MustFixture(t, false)
	ctx := t.Context()
	ids := map[string]string{}
	for _, p := range noErr(f.Svc.FindProfiles(ctx, f.Admin, "acme"))(t) {
		ids[p.Name] = p.ID
	}
	noView := noErr(f.Svc.CreateProfile(ctx, f.Admin, "acme", service.ProfileInput{Name: ptr("Admins without trail"), Role: ptr(audittrail.RoleAdministrator)}))(t)
	auditors := noErr(f.Svc.CreateProfile(ctx, f.Admin, "acme", service.ProfileInput{Name: ptr("Auditors"), Role: ptr(audittrail.RoleAdministrator),
		Permissions: &[]string{audittrail.PermissionViewAuditTrail}}))(t)
	nova := noErr(f.Svc.CreateUser(ctx, f.Admin, "acme", service.UserInput{LoginName: ptr("nova"), Name: ptr("Nova"), ProfileID: &noView.ID, Password: ptr("nova password")}))(t)
	agent := f.user(t, "agent")

	b := f.Browser(t)
	b.MustLogin("nova", "nova password")
	csrf := b.Get("/users/new").CSRF(t)

	// refused checks that the form came back with the granting rule's
	// message and the values that were sent.
	refused := func(t *testing.T, p *Page, form string, values ...string) {
		t.Helper()
		if p.Status != http.StatusForbidden {
			t.Errorf("got status %d, want 403:\n%s", p.Status, p.Body)
		}
		mustContain(t, p, `id="`+form+`"`, `id="form-error"`, grantRefused)
		mustContain(t, p, values...)
		mustNotContain(t, p, "Something went wrong", "You don't have access")
	}
	userForm := func(login, name, profile string) url.Values {
		return url.Values{"csrf": {csrf}, "login_name": {login}, "name": {name}, "profile_id": {profile}, "enabled": {"on"}}
	}
	profileOf := func(t *testing.T, login string) string {
		t.Helper()
		return f.user(t, login).ProfileID
	}

	t.Run("ErrNewUserAdministrator", func(t *testing.T) {
		form := userForm("eve", "Eve Example", ids[audittrail.AdministratorProfileName])
		form.Set("password", "eve's password")
		refused(t, b.Post("/users", form), "user-form", `value="eve"`, `value="Eve Example"`)
		if f.user(t, "eve") != nil {
			t.Error("the user was created")
		}
	})
	t.Run("ErrOwnUserAdministrator", func(t *testing.T) {
		refused(t, b.Post("/users/"+nova.ID, userForm("nova", "Nova", ids[audittrail.AdministratorProfileName])), "user-form", `value="nova"`)
		if got := profileOf(t, "nova"); got != noView.ID {
			t.Errorf("nova's profile: got %s, want %s", got, noView.ID)
		}
		// She still cannot read the trail.
		if p := b.Get("/audit-trail"); p.Status != http.StatusForbidden {
			t.Errorf("GET /audit-trail: got %d, want 403", p.Status)
		}
	})
	t.Run("ErrOtherUserProfileThatHoldsIt", func(t *testing.T) {
		refused(t, b.Post("/users/"+agent.ID, userForm("agent", agent.Name, auditors.ID)), "user-form", `value="agent"`)
		if got := profileOf(t, "agent"); got != agent.ProfileID {
			t.Errorf("agent's profile: got %s, want %s", got, agent.ProfileID)
		}
	})
	t.Run("FormSaysWhoCanGrant", func(t *testing.T) {
		const note = "Only an administrator who holds the View audit trail permission can give it to a profile"
		mustContain(t, b.Get("/profiles/new"), note)
		a := f.Browser(t)
		a.MustLogin("admin", adminPassword)
		mustNotContain(t, a.Get("/profiles/new"), note)
	})
	t.Run("ErrNewProfileThatHoldsIt", func(t *testing.T) {
		p := b.Post("/profiles", url.Values{"csrf": {csrf}, "name": {"Mine"}, "role": {"administrator"}, "permissions": {audittrail.PermissionViewAuditTrail}})
		refused(t, p, "profile-form", `value="Mine"`)
	})
	t.Run("ErrOwnProfile", func(t *testing.T) {
		p := b.Post("/profiles/"+noView.ID, url.Values{"csrf": {csrf}, "name": {noView.Name}, "role": {"administrator"}, "permissions": {audittrail.PermissionViewAuditTrail}})
		refused(t, p, "profile-form", `value="Admins without trail"`)
		if got := noErr(f.Svc.FindProfile(ctx, service.Local(), "acme", noView.ID))(t); got.HasPermission(audittrail.PermissionViewAuditTrail) {
			t.Error("her profile got the permission")
		}
	})
	t.Run("ErrRemoveFromAHolder", func(t *testing.T) {
		p := b.Post("/profiles/"+auditors.ID, url.Values{"csrf": {csrf}, "name": {"Auditors"}, "role": {"administrator"}})
		refused(t, p, "profile-form", `value="Auditors"`)
	})
	t.Run("OKEverythingElse", func(t *testing.T) {
		// The edit form of a profile that holds the permission sends it
		// back checked: renaming it is open.
		edit := b.Get("/profiles/" + auditors.ID)
		if !regexp.MustCompile(`id="perm-view"[^>]*checked`).MatchString(edit.Body) {
			t.Fatalf("the edit form of Auditors does not show the permission checked:\n%s", edit.Body)
		}
		p := b.Post("/profiles/"+auditors.ID, url.Values{"csrf": {csrf}, "name": {"Trail readers"}, "role": {"administrator"}, "permissions": {audittrail.PermissionViewAuditTrail}})
		if p.Status != http.StatusSeeOther {
			t.Errorf("renaming a profile that holds the permission: got %d, want 303:\n%s", p.Status, p.Body)
		}
		if p := b.Post("/users/"+agent.ID, userForm("agent", agent.Name, noView.ID)); p.Status != http.StatusSeeOther {
			t.Errorf("giving a profile without the permission: got %d, want 303:\n%s", p.Status, p.Body)
		}
		form := userForm("olga", "Olga", noView.ID)
		form.Set("password", "olga's password")
		if p := b.Post("/users", form); p.Status != http.StatusSeeOther {
			t.Errorf("creating a user without the permission: got %d, want 303:\n%s", p.Status, p.Body)
		}
		admin := f.user(t, "admin")
		if p := b.Post("/users/"+admin.ID, userForm("admin", "Ada A. Admin", admin.ProfileID)); p.Status != http.StatusSeeOther {
			t.Errorf("renaming a user who holds the permission: got %d, want 303:\n%s", p.Status, p.Body)
		}
	})
	t.Run("OKHolderGrants", func(t *testing.T) {
		a := f.Browser(t)
		a.MustLogin("admin", adminPassword)
		token := a.Get("/users/new").CSRF(t)
		if p := a.Post("/users/"+nova.ID, url.Values{"csrf": {token}, "login_name": {"nova"}, "name": {"Nova"}, "profile_id": {auditors.ID}, "enabled": {"on"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("an administrator who holds it: got %d, want 303:\n%s", p.Status, p.Body)
		}
		if got := profileOf(t, "nova"); got != auditors.ID {
			t.Errorf("nova's profile: got %s, want %s", got, auditors.ID)
		}
		if strings.Contains(a.Get("/users").Body, grantRefused) {
			t.Error("the holder was refused")
		}
	})
}
