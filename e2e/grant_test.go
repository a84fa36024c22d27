package e2e

import (
	"strings"
	"testing"
)

// TestGrantingThePermission checks SPEC §4 "Granting the permission": an
// administrator whose profile lacks audit_trail.view cannot give it to
// anyone, herself included — not by changing her own profile, not by
// taking the built-in Administrator profile, not by making a profile or a
// user that holds it, not by changing a profile that holds it — and her
// reads stay refused. A holder of the permission can do each of these.
func TestGrantingThePermission(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "grant", true)
	profiles := peopleProfileIDs(t, srv, a)
	noView := srv.Must(t, 201, "POST", a.path("/profiles"), a.AdminToken, map[string]any{
		"name": "Administrator without audit trail", "role": "administrator", "permissions": []string{}}).JSON(t)["id"].(string)
	viewers := srv.Must(t, 201, "POST", a.path("/profiles"), a.AdminToken, map[string]any{
		"name": "Auditors", "role": "administrator", "permissions": []string{"audit_trail.view"}}).JSON(t)["id"].(string)
	eve := peopleCreateUser(t, srv, a, "eve", noView)
	eveToken := peopleLogin(t, srv, a, "eve", peoplePassword)
	other := peopleCreateUser(t, srv, a, "other", profiles["Agent"])

	refused := func(t *testing.T, method, path string, body any) {
		t.Helper()
		e := MustError(t, srv.Do(t, method, a.path(path), eveToken, body), 403, "forbidden")
		if !strings.Contains(e.Message, "audit_trail.view") || !strings.Contains(e.Message, "grant") {
			t.Errorf("message %q: want it to say that only a holder of audit_trail.view can grant it", e.Message)
		}
	}
	t.Run("ErrOwnProfile", func(t *testing.T) {
		refused(t, "PATCH", "/profiles/"+noView, map[string]any{"permissions": []string{"audit_trail.view"}})
	})
	t.Run("ErrBuiltInAdministrator", func(t *testing.T) {
		refused(t, "PATCH", "/users/"+eve, map[string]any{"profile_id": profiles["Administrator"]})
	})
	t.Run("ErrProfileThatHoldsIt", func(t *testing.T) {
		refused(t, "PATCH", "/users/"+eve, map[string]any{"profile_id": viewers})
		refused(t, "PATCH", "/users/"+other, map[string]any{"profile_id": viewers})
	})
	t.Run("ErrNewProfile", func(t *testing.T) {
		refused(t, "POST", "/profiles", map[string]any{"name": "Mine", "role": "administrator", "permissions": []string{"audit_trail.view"}})
	})
	t.Run("ErrNewUser", func(t *testing.T) {
		refused(t, "POST", "/users", map[string]any{"login_name": "eve2", "profile_id": profiles["Administrator"], "password": peoplePassword})
	})
	t.Run("ErrChangeAHoldersPermissions", func(t *testing.T) {
		refused(t, "PATCH", "/profiles/"+viewers, map[string]any{"permissions": []string{}})
	})
	t.Run("ErrHoldersPasswordOrLogin", func(t *testing.T) {
		// Setting a holder's password would let her sign in as the holder.
		var admin string
		for _, u := range srv.Must(t, 200, "GET", a.path("/users"), a.AdminToken, nil).JSON(t)["users"].([]any) {
			if u := u.(map[string]any); u["login_name"] == "admin" {
				admin = u["id"].(string)
			}
		}
		refused(t, "PATCH", "/users/"+admin, map[string]any{"password": "a new passphrase of mine"})
		refused(t, "PATCH", "/users/"+admin, map[string]any{"login_name": "taken-over"})
		srv.Must(t, 200, "PATCH", a.path("/users/"+admin), eveToken, map[string]any{"email": "ada@example.org"})
		peopleLogin(t, srv, a, "admin", "correct horse battery")
	})
	t.Run("OKEverythingElse", func(t *testing.T) {
		srv.Must(t, 200, "PATCH", a.path("/profiles/"+viewers), eveToken, map[string]any{"description": "people who read the trail"})
		srv.Must(t, 200, "PATCH", a.path("/users/"+other), eveToken, map[string]any{"profile_id": noView})
		srv.Must(t, 201, "POST", a.path("/profiles"), eveToken, map[string]any{"name": "Supervisors", "role": "agent_manager"})
	})
	t.Run("ErrStillNoRead", func(t *testing.T) {
		MustError(t, srv.Do(t, "GET", a.path("/records"), eveToken, nil), 403, "forbidden")
	})
	t.Run("OKHolderGrants", func(t *testing.T) {
		srv.Must(t, 200, "PATCH", a.path("/users/"+eve), a.AdminToken, map[string]any{"profile_id": viewers})
		// The new profile ends her token (SPEC §5 Revocation); she signs in again.
		eveToken = peopleLogin(t, srv, a, "eve", peoplePassword)
		srv.Must(t, 200, "GET", a.path("/records"), eveToken, nil)
	})
}
