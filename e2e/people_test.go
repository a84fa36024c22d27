package e2e

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The password of the users these tests create.
const peoplePassword = "people-password-1"

// peopleProfileIDs returns the account's profiles, id by name.
func peopleProfileIDs(tb testing.TB, srv *Server, a *Account) map[string]string {
	tb.Helper()
	out := map[string]string{}
	for _, p := range peopleProfiles(tb, srv, a) {
		out[p["name"].(string)] = p["id"].(string)
	}
	return out
}

// peopleProfiles lists the account's profiles as the API answers them.
func peopleProfiles(tb testing.TB, srv *Server, a *Account) []map[string]any {
	tb.Helper()
	v := srv.Must(tb, 200, "GET", a.path("/profiles"), a.AdminToken, nil).JSON(tb)
	list, ok := v["profiles"].([]any)
	if !ok {
		tb.Fatalf("profiles: got %v, want a list", v)
	}
	out := make([]map[string]any, len(list))
	for i, p := range list {
		out[i] = p.(map[string]any)
	}
	return out
}

// peopleCreateUser creates a user holding the profile and returns its id.
func peopleCreateUser(tb testing.TB, srv *Server, a *Account, login, profileID string) string {
	tb.Helper()
	u := srv.Must(tb, 201, "POST", a.path("/users"), a.AdminToken, map[string]any{
		"login_name": login, "name": "User " + login, "email": login + "@example.com", "profile_id": profileID, "password": peoplePassword,
	}).JSON(tb)
	return u["id"].(string)
}

// peopleLogin signs a user in and returns the token.
func peopleLogin(tb testing.TB, srv *Server, a *Account, login, password string) string {
	tb.Helper()
	v := srv.Must(tb, 200, "POST", "/api/v1/login", "", map[string]string{"account_id": a.ID, "login_name": login, "password": password}).JSON(tb)
	tok, _ := v["token"].(string)
	if tok == "" {
		tb.Fatalf("login: got %v, want a token", v)
	}
	return tok
}

// peopleStatus sends a request and fails unless its status is want.
func peopleStatus(tb testing.TB, srv *Server, want int, method, path, cred string, body any) {
	tb.Helper()
	if r := srv.Do(tb, method, path, cred, body); r.Status != want {
		tb.Fatalf("%s %s: got %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
}

// TestPeopleProfiles drives profiles CRUD (issue 3, item 1).
func TestPeopleProfiles(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "profiles", true)

	t.Run("BuiltIn", func(t *testing.T) {
		want := map[string]string{"Administrator": "administrator", "Agent Manager": "agent_manager", "Campaign Manager": "campaign_manager", "Agent": "agent"}
		got := map[string]map[string]any{}
		for _, p := range peopleProfiles(t, srv, a) {
			got[p["name"].(string)] = p
		}
		for name, role := range want {
			p, ok := got[name]
			if !ok {
				t.Fatalf("built-in profile %q: got none in %v", name, got)
			}
			if p["role"] != role || p["built_in"] != true {
				t.Errorf("profile %q: got role %v built_in %v, want %s true", name, p["role"], p["built_in"], role)
			}
			perms, _ := p["permissions"].([]any)
			hasView := slices.Contains(perms, any("audit_trail.view"))
			if hasView != (name == "Administrator") {
				t.Errorf("profile %q: permissions %v: got audit_trail.view %v, want %v", name, perms, hasView, name == "Administrator")
			}
		}
	})

	t.Run("CRUD", func(t *testing.T) {
		p := srv.Must(t, 201, "POST", a.path("/profiles"), a.AdminToken, map[string]any{
			"name": "Auditors", "description": "Read the trail", "role": "administrator", "permissions": []string{"audit_trail.view"},
		}).JSON(t)
		id, _ := p["id"].(string)
		if id == "" || p["name"] != "Auditors" || p["description"] != "Read the trail" || p["role"] != "administrator" || p["built_in"] != false {
			t.Fatalf("created profile: got %v", p)
		}
		if perms, _ := p["permissions"].([]any); !slices.Equal(perms, []any{"audit_trail.view"}) {
			t.Fatalf("permissions: got %v, want [audit_trail.view]", p["permissions"])
		}
		got := srv.Must(t, 200, "GET", a.path("/profiles/"+id), a.AdminToken, nil).JSON(t)
		if got["name"] != "Auditors" || got["id"] != id {
			t.Fatalf("GET profile: got %v", got)
		}
		if _, ok := peopleProfileIDs(t, srv, a)["Auditors"]; !ok {
			t.Fatal("list: got no Auditors profile")
		}

		upd := srv.Must(t, 200, "PATCH", a.path("/profiles/"+id), a.AdminToken, map[string]any{"name": "Trail readers", "permissions": []string{}}).JSON(t)
		if upd["name"] != "Trail readers" || upd["description"] != "Read the trail" || upd["role"] != "administrator" {
			t.Fatalf("PATCH: got %v", upd)
		}
		if perms, _ := upd["permissions"].([]any); len(perms) != 0 {
			t.Fatalf("PATCH permissions: got %v, want none", upd["permissions"])
		}
		srv.Must(t, 204, "DELETE", a.path("/profiles/"+id), a.AdminToken, nil)
		MustError(t, srv.Do(t, "GET", a.path("/profiles/"+id), a.AdminToken, nil), 404, "not_found")
		MustError(t, srv.Do(t, "PATCH", a.path("/profiles/"+id), a.AdminToken, map[string]any{"name": "x"}), 404, "not_found")
		MustError(t, srv.Do(t, "DELETE", a.path("/profiles/"+id), a.AdminToken, nil), 404, "not_found")
	})

	t.Run("Roles", func(t *testing.T) {
		for _, role := range []string{"administrator", "agent_manager", "campaign_manager", "agent"} {
			p := srv.Must(t, 201, "POST", a.path("/profiles"), a.AdminToken, map[string]any{"name": "Role " + role, "role": role}).JSON(t)
			if p["role"] != role {
				t.Errorf("role: got %v, want %s", p["role"], role)
			}
		}
		for _, role := range []string{"", "boss", "Administrator"} {
			MustError(t, srv.Do(t, "POST", a.path("/profiles"), a.AdminToken, map[string]any{"name": "Bad " + role, "role": role}), 422, "validation_failed")
		}
		MustError(t, srv.Do(t, "POST", a.path("/profiles"), a.AdminToken, map[string]any{"name": "Unknown perm", "role": "administrator", "permissions": []string{"records.delete"}}), 422, "validation_failed")
		MustError(t, srv.Do(t, "POST", a.path("/profiles"), a.AdminToken, map[string]any{"name": "", "role": "agent"}), 422, "validation_failed")
		MustError(t, srv.Do(t, "POST", a.path("/profiles"), a.AdminToken, map[string]any{"name": "Role agent", "role": "agent"}), 409, "already_exists")
		MustError(t, srv.Do(t, "POST", a.path("/profiles"), a.AdminToken, map[string]any{"name": "Administrator", "role": "administrator"}), 409, "already_exists")
	})

	t.Run("ErrPermissionNotAllowedForRole", func(t *testing.T) {
		for _, role := range []string{"agent_manager", "campaign_manager", "agent"} {
			r := srv.Do(t, "POST", a.path("/profiles"), a.AdminToken, map[string]any{"name": "Viewing " + role, "role": role, "permissions": []string{"audit_trail.view"}})
			MustError(t, r, 422, "permission_not_allowed_for_role")
		}
		if _, ok := peopleProfileIDs(t, srv, a)["Viewing agent"]; ok {
			t.Fatal("a refused profile was stored")
		}
		id := srv.Must(t, 201, "POST", a.path("/profiles"), a.AdminToken, map[string]any{"name": "Viewers", "role": "administrator", "permissions": []string{"audit_trail.view"}}).JSON(t)["id"].(string)
		MustError(t, srv.Do(t, "PATCH", a.path("/profiles/"+id), a.AdminToken, map[string]any{"role": "agent"}), 422, "permission_not_allowed_for_role")
		got := srv.Must(t, 200, "GET", a.path("/profiles/"+id), a.AdminToken, nil).JSON(t)
		if got["role"] != "administrator" {
			t.Fatalf("after a refused PATCH: got role %v, want administrator", got["role"])
		}
		// Granting it to an agent profile is refused too; dropping it with the role change is fine.
		agent := srv.Must(t, 201, "POST", a.path("/profiles"), a.AdminToken, map[string]any{"name": "Plain agents", "role": "agent"}).JSON(t)["id"].(string)
		MustError(t, srv.Do(t, "PATCH", a.path("/profiles/"+agent), a.AdminToken, map[string]any{"permissions": []string{"audit_trail.view"}}), 422, "permission_not_allowed_for_role")
		srv.Must(t, 200, "PATCH", a.path("/profiles/"+id), a.AdminToken, map[string]any{"role": "agent", "permissions": []string{}})
	})

	t.Run("ErrAdministratorProfileLocked", func(t *testing.T) {
		id := peopleProfileIDs(t, srv, a)["Administrator"]
		for _, body := range []map[string]any{
			{"description": "changed"}, {"permissions": []string{}}, {"role": "agent", "permissions": []string{}}, {"name": "Boss"}, {},
		} {
			MustError(t, srv.Do(t, "PATCH", a.path("/profiles/"+id), a.AdminToken, body), 403, "forbidden")
		}
		MustError(t, srv.Do(t, "DELETE", a.path("/profiles/"+id), a.AdminToken, nil), 403, "forbidden")
		got := srv.Must(t, 200, "GET", a.path("/profiles/"+id), a.AdminToken, nil).JSON(t)
		if perms, _ := got["permissions"].([]any); got["name"] != "Administrator" || got["role"] != "administrator" || !slices.Equal(perms, []any{"audit_trail.view"}) {
			t.Fatalf("Administrator after refused changes: got %v", got)
		}
		// The administrator still reads the trail.
		srv.Must(t, 200, "GET", a.path("/records"), a.AdminToken, nil)
	})

	// Only the built-in Administrator is locked (SPEC §4): the other built-in
	// profiles may be changed, including their role, and changed back.
	t.Run("OtherBuiltInsEditable", func(t *testing.T) {
		id := peopleProfileIDs(t, srv, a)["Campaign Manager"]
		srv.Must(t, 200, "PATCH", a.path("/profiles/"+id), a.AdminToken, map[string]any{"description": "Runs campaigns"})
		srv.Must(t, 200, "PATCH", a.path("/profiles/"+id), a.AdminToken, map[string]any{"role": "administrator"})
		r := srv.Do(t, "PATCH", a.path("/profiles/"+id), a.AdminToken, map[string]any{"role": "campaign_manager"})
		if r.Status != 200 {
			t.Fatalf("changing back the role of the built-in Campaign Manager profile after making it an administrator profile: got %d, want 200 "+
				"(only the built-in Administrator profile is locked): %s", r.Status, r.Body)
		}
	})

	t.Run("ErrDeleteHeldProfile", func(t *testing.T) {
		id := srv.Must(t, 201, "POST", a.path("/profiles"), a.AdminToken, map[string]any{"name": "Night shift", "role": "agent"}).JSON(t)["id"].(string)
		agent := peopleProfileIDs(t, srv, a)["Agent"]
		u1 := peopleCreateUser(t, srv, a, "night-1", id)
		u2 := peopleCreateUser(t, srv, a, "night-2", id)
		e := MustError(t, srv.Do(t, "DELETE", a.path("/profiles/"+id), a.AdminToken, nil), 409, "conflict")
		if !strings.Contains(e.Message, "2 users") {
			t.Errorf("message: got %q, want it to say 2 users hold the profile", e.Message)
		}
		srv.Must(t, 200, "PATCH", a.path("/users/"+u1), a.AdminToken, map[string]any{"profile_id": agent})
		e = MustError(t, srv.Do(t, "DELETE", a.path("/profiles/"+id), a.AdminToken, nil), 409, "conflict")
		if !strings.Contains(e.Message, "1 user") {
			t.Errorf("message: got %q, want it to say 1 user holds the profile", e.Message)
		}
		srv.Must(t, 204, "DELETE", a.path("/users/"+u2), a.AdminToken, nil)
		srv.Must(t, 204, "DELETE", a.path("/profiles/"+id), a.AdminToken, nil)
		MustError(t, srv.Do(t, "GET", a.path("/profiles/"+id), a.AdminToken, nil), 404, "not_found")
	})
}

// peopleNoSecrets fails if a users answer holds a password or a hash.
func peopleNoSecrets(tb testing.TB, r *Response, passwords ...string) {
	tb.Helper()
	body := string(r.Body)
	if strings.Contains(strings.ToLower(body), "argon2") || strings.Contains(body, "$argon") {
		tb.Fatalf("answer holds a password hash: %s", body)
	}
	if r.Status < 300 && strings.Contains(strings.ToLower(body), "password") {
		tb.Fatalf("answer holds a password field: %s", body)
	}
	for _, pw := range passwords {
		if strings.Contains(body, pw) {
			tb.Fatalf("answer holds the password %q: %s", pw, body)
		}
	}
}

// TestPeopleUsers drives users CRUD (issue 3, item 2).
func TestPeopleUsers(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "users", true)
	b := srv.MustAccount(t, "users-other", false)
	prof := peopleProfileIDs(t, srv, a)
	const pw, pw2 = "users-password-1", "users-password-2"
	do := func(t *testing.T, method, path string, body any) *Response {
		t.Helper()
		r := srv.Do(t, method, path, a.AdminToken, body)
		peopleNoSecrets(t, r, pw, pw2)
		return r
	}

	var id string
	t.Run("CRUD", func(t *testing.T) {
		r := do(t, "POST", a.path("/users"), map[string]any{
			"login_name": "jdoe", "name": "Jane Doe", "email": "jane@example.com", "profile_id": prof["Agent"], "password": pw,
		})
		if r.Status != 201 {
			t.Fatalf("POST: got %d: %s", r.Status, r.Body)
		}
		u := r.JSON(t)
		id, _ = u["id"].(string)
		if id == "" || u["login_name"] != "jdoe" || u["name"] != "Jane Doe" || u["email"] != "jane@example.com" || u["profile_id"] != prof["Agent"] || u["enabled"] != true {
			t.Fatalf("created user: got %v", u)
		}
		if r := do(t, "GET", a.path("/users/"+id), nil); r.Status != 200 || r.JSON(t)["login_name"] != "jdoe" {
			t.Fatalf("GET: got %d %s", r.Status, r.Body)
		}
		r = do(t, "GET", a.path("/users"), nil)
		list, _ := r.JSON(t)["users"].([]any)
		var logins []string
		for _, u := range list {
			logins = append(logins, u.(map[string]any)["login_name"].(string))
		}
		if !slices.Contains(logins, "jdoe") || !slices.Contains(logins, "admin") {
			t.Fatalf("list: got %v, want admin and jdoe", logins)
		}
		// The password works, and a new one replaces it.
		peopleLogin(t, srv, a, "jdoe", pw)
		r = do(t, "PATCH", a.path("/users/"+id), map[string]any{"name": "Jane Q. Doe", "password": pw2, "profile_id": prof["Agent Manager"]})
		if u := r.JSON(t); r.Status != 200 || u["name"] != "Jane Q. Doe" || u["email"] != "jane@example.com" || u["profile_id"] != prof["Agent Manager"] {
			t.Fatalf("PATCH: got %d %s", r.Status, r.Body)
		}
		MustError(t, srv.Do(t, "POST", "/api/v1/login", "", map[string]string{"account_id": a.ID, "login_name": "jdoe", "password": pw}), 401, "unauthenticated")
		peopleLogin(t, srv, a, "jdoe", pw2)
		// name defaults to the login name.
		r = do(t, "POST", a.path("/users"), map[string]any{"login_name": "noname", "profile_id": prof["Agent"], "password": pw})
		if u := r.JSON(t); r.Status != 201 || u["name"] != "noname" {
			t.Fatalf("POST without name: got %d %s", r.Status, r.Body)
		}
	})

	t.Run("ErrLoginNameTaken", func(t *testing.T) {
		body := map[string]any{"login_name": "taken", "profile_id": prof["Agent"], "password": pw}
		if r := do(t, "POST", a.path("/users"), body); r.Status != 201 {
			t.Fatalf("POST: got %d %s", r.Status, r.Body)
		}
		MustError(t, do(t, "POST", a.path("/users"), body), 409, "already_exists")
		other := do(t, "POST", a.path("/users"), map[string]any{"login_name": "other", "profile_id": prof["Agent"], "password": pw}).JSON(t)["id"].(string)
		MustError(t, do(t, "PATCH", a.path("/users/"+other), map[string]any{"login_name": "taken"}), 409, "already_exists")
		// Unique per account: another account may have the same login name.
		bprof := peopleProfileIDs(t, srv, b)["Agent"]
		srv.Must(t, 201, "POST", b.path("/users"), b.AdminToken, map[string]any{"login_name": "taken", "profile_id": bprof, "password": pw})
	})

	t.Run("ErrValidation", func(t *testing.T) {
		for _, c := range []struct {
			body map[string]any
			code string
		}{
			{map[string]any{"login_name": "short", "profile_id": prof["Agent"], "password": "1234567"}, "validation_failed"},
			{map[string]any{"login_name": "nopw", "profile_id": prof["Agent"]}, "validation_failed"},
			{map[string]any{"login_name": "", "profile_id": prof["Agent"], "password": pw}, "validation_failed"},
			{map[string]any{"login_name": "noprofile", "password": pw}, "validation_failed"},
			{map[string]any{"login_name": "badprofile", "profile_id": "prf_nope", "password": pw}, "validation_failed"},
			{map[string]any{"login_name": strings.Repeat("l", 129), "profile_id": prof["Agent"], "password": pw}, "value_too_long"},
			{map[string]any{"login_name": "longpw", "profile_id": prof["Agent"], "password": strings.Repeat("p", 1025)}, "value_too_long"},
		} {
			MustError(t, do(t, "POST", a.path("/users"), c.body), 422, c.code)
		}
		// A profile of another account is not one of this account's.
		MustError(t, do(t, "POST", a.path("/users"), map[string]any{"login_name": "crossprofile", "profile_id": peopleProfileIDs(t, srv, b)["Agent"], "password": pw}), 422, "validation_failed")
		MustError(t, do(t, "POST", a.path("/users"), map[string]any{"login_name": "x", "password": pw, "profile_id": prof["Agent"], "role": "admin"}), 400, "invalid_json")
		if id == "" {
			t.Skip("no user")
		}
		MustError(t, do(t, "PATCH", a.path("/users/"+id), map[string]any{"password": "short"}), 422, "validation_failed")
		peopleLogin(t, srv, a, "jdoe", pw2)
	})

	t.Run("Delete", func(t *testing.T) {
		if id == "" {
			t.Skip("no user")
		}
		if r := do(t, "DELETE", a.path("/users/"+id), nil); r.Status != 204 {
			t.Fatalf("DELETE: got %d %s", r.Status, r.Body)
		}
		MustError(t, do(t, "GET", a.path("/users/"+id), nil), 404, "not_found")
		MustError(t, do(t, "PATCH", a.path("/users/"+id), map[string]any{"name": "x"}), 404, "not_found")
		MustError(t, do(t, "DELETE", a.path("/users/"+id), nil), 404, "not_found")
		MustError(t, srv.Do(t, "POST", "/api/v1/login", "", map[string]string{"account_id": a.ID, "login_name": "jdoe", "password": pw2}), 401, "unauthenticated")
		// The login name is free again.
		do(t, "POST", a.path("/users"), map[string]any{"login_name": "jdoe", "profile_id": prof["Agent"], "password": pw})
	})

	t.Run("ErrOtherAccountsIDs", func(t *testing.T) {
		// Ids of another account's users and profiles are not found through this account.
		bu := srv.Must(t, 201, "POST", b.path("/users"), b.AdminToken, map[string]any{"login_name": "b-user", "profile_id": peopleProfileIDs(t, srv, b)["Agent"], "password": pw}).JSON(t)["id"].(string)
		bp := peopleProfileIDs(t, srv, b)["Agent Manager"]
		for _, c := range [][2]string{{"GET", "/users/" + bu}, {"PATCH", "/users/" + bu}, {"DELETE", "/users/" + bu},
			{"GET", "/profiles/" + bp}, {"PATCH", "/profiles/" + bp}, {"DELETE", "/profiles/" + bp}} {
			var body any
			if c[0] == "PATCH" {
				body = map[string]any{"name": "Hijacked"}
			}
			MustError(t, do(t, c[0], a.path(c[1]), body), 404, "not_found")
		}
		if got := srv.Must(t, 200, "GET", b.path("/users/"+bu), b.AdminToken, nil).JSON(t); got["name"] != "b-user" {
			t.Fatalf("B's user after A's attempts: got %v", got)
		}
		srv.Must(t, 200, "GET", b.path("/profiles/"+bp), b.AdminToken, nil)
	})

	t.Run("NoPasswordInAnswers", func(t *testing.T) {
		do(t, "GET", a.path("/users"), nil)
		// The account creation answer holds its administrator.
		r := srv.Must(t, 201, "POST", "/api/v1/accounts", OperatorToken, map[string]any{
			"id": "users-third", "name": "Third", "admin": map[string]any{"login_name": "admin", "password": pw},
		})
		peopleNoSecrets(t, r, pw)
	})
}

// TestPeopleNextRequest checks that grant, revoke, disable, delete and
// logout each take effect on the very next request (issue 3, item 3).
func TestPeopleNextRequest(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "next-request", true)
	prof := peopleProfileIDs(t, srv, a)
	auditors := srv.Must(t, 201, "POST", a.path("/profiles"), a.AdminToken, map[string]any{"name": "Auditors", "role": "administrator"}).JSON(t)["id"].(string)

	t.Run("GrantRevokePermission", func(t *testing.T) {
		peopleCreateUser(t, srv, a, "auditor", auditors)
		tok := peopleLogin(t, srv, a, "auditor", peoplePassword)
		MustError(t, srv.Do(t, "GET", a.path("/records"), tok, nil), 403, "forbidden")
		peopleStatus(t, srv, 200, "GET", a.path("/users"), tok, nil)

		srv.Must(t, 200, "PATCH", a.path("/profiles/"+auditors), a.AdminToken, map[string]any{"permissions": []string{"audit_trail.view"}})
		peopleStatus(t, srv, 200, "GET", a.path("/records"), tok, nil)
		peopleStatus(t, srv, 200, "GET", a.path("/records/count"), tok, nil)

		srv.Must(t, 200, "PATCH", a.path("/profiles/"+auditors), a.AdminToken, map[string]any{"permissions": []string{}})
		MustError(t, srv.Do(t, "GET", a.path("/records"), tok, nil), 403, "forbidden")
	})

	t.Run("GrantRevokeByProfile", func(t *testing.T) {
		id := peopleCreateUser(t, srv, a, "moving", prof["Agent"])
		tok := peopleLogin(t, srv, a, "moving", peoplePassword)
		MustError(t, srv.Do(t, "GET", a.path("/users"), tok, nil), 403, "forbidden")
		MustError(t, srv.Do(t, "GET", a.path("/records"), tok, nil), 403, "forbidden")

		// Another profile ends the user's tokens (SPEC §5 Revocation); the
		// next sign-in has the new profile's rights.
		srv.Must(t, 200, "PATCH", a.path("/users/"+id), a.AdminToken, map[string]any{"profile_id": prof["Administrator"]})
		MustError(t, srv.Do(t, "GET", a.path("/users"), tok, nil), 401, "unauthenticated")
		tok = peopleLogin(t, srv, a, "moving", peoplePassword)
		peopleStatus(t, srv, 200, "GET", a.path("/users"), tok, nil)
		peopleStatus(t, srv, 200, "GET", a.path("/records"), tok, nil)

		srv.Must(t, 200, "PATCH", a.path("/users/"+id), a.AdminToken, map[string]any{"profile_id": prof["Agent"]})
		MustError(t, srv.Do(t, "GET", a.path("/users"), tok, nil), 401, "unauthenticated")
		tok = peopleLogin(t, srv, a, "moving", peoplePassword)
		MustError(t, srv.Do(t, "GET", a.path("/users"), tok, nil), 403, "forbidden")
		MustError(t, srv.Do(t, "GET", a.path("/records"), tok, nil), 403, "forbidden")

		// A role change of the profile the user holds counts too, and
		// keeps the token: the profile is read at each request.
		srv.Must(t, 200, "PATCH", a.path("/users/"+id), a.AdminToken, map[string]any{"profile_id": auditors})
		tok = peopleLogin(t, srv, a, "moving", peoplePassword)
		peopleStatus(t, srv, 200, "GET", a.path("/users"), tok, nil)
		srv.Must(t, 200, "PATCH", a.path("/profiles/"+auditors), a.AdminToken, map[string]any{"role": "agent_manager"})
		MustError(t, srv.Do(t, "GET", a.path("/users"), tok, nil), 403, "forbidden")
		srv.Must(t, 200, "PATCH", a.path("/profiles/"+auditors), a.AdminToken, map[string]any{"role": "administrator"})
		peopleStatus(t, srv, 200, "GET", a.path("/users"), tok, nil)
	})

	t.Run("Disable", func(t *testing.T) {
		id := peopleCreateUser(t, srv, a, "disabled", prof["Administrator"])
		tok := peopleLogin(t, srv, a, "disabled", peoplePassword)
		peopleStatus(t, srv, 200, "GET", a.path("/records"), tok, nil)
		srv.Must(t, 200, "PATCH", a.path("/users/"+id), a.AdminToken, map[string]any{"enabled": false})
		MustError(t, srv.Do(t, "GET", a.path("/records"), tok, nil), 401, "unauthenticated")
		MustError(t, srv.Do(t, "GET", "/api/v1/object-types", tok, nil), 401, "unauthenticated")
		MustError(t, srv.Do(t, "POST", "/api/v1/login", "", map[string]string{"account_id": a.ID, "login_name": "disabled", "password": peoplePassword}), 401, "unauthenticated")
		srv.Must(t, 200, "PATCH", a.path("/users/"+id), a.AdminToken, map[string]any{"enabled": true})
		tok = peopleLogin(t, srv, a, "disabled", peoplePassword)
		peopleStatus(t, srv, 200, "GET", a.path("/records"), tok, nil)
	})

	t.Run("Delete", func(t *testing.T) {
		id := peopleCreateUser(t, srv, a, "deleted", prof["Administrator"])
		tok := peopleLogin(t, srv, a, "deleted", peoplePassword)
		tok2 := peopleLogin(t, srv, a, "deleted", peoplePassword)
		peopleStatus(t, srv, 200, "GET", a.path("/records"), tok, nil)
		srv.Must(t, 204, "DELETE", a.path("/users/"+id), a.AdminToken, nil)
		for _, tk := range []string{tok, tok2} {
			MustError(t, srv.Do(t, "GET", a.path("/records"), tk, nil), 401, "unauthenticated")
			MustError(t, srv.Do(t, "POST", "/api/v1/logout", tk, nil), 401, "unauthenticated")
		}
		// A new user with the same login name does not inherit the tokens.
		peopleCreateUser(t, srv, a, "deleted", prof["Administrator"])
		MustError(t, srv.Do(t, "GET", a.path("/records"), tok, nil), 401, "unauthenticated")
	})

	t.Run("Logout", func(t *testing.T) {
		peopleCreateUser(t, srv, a, "leaving", prof["Administrator"])
		tok := peopleLogin(t, srv, a, "leaving", peoplePassword)
		other := peopleLogin(t, srv, a, "leaving", peoplePassword)
		peopleStatus(t, srv, 200, "GET", a.path("/records"), tok, nil)
		peopleStatus(t, srv, 204, "POST", "/api/v1/logout", tok, nil)
		MustError(t, srv.Do(t, "GET", a.path("/records"), tok, nil), 401, "unauthenticated")
		MustError(t, srv.Do(t, "POST", "/api/v1/logout", tok, nil), 401, "unauthenticated")
		// Logout revokes that one token, not the user's others.
		peopleStatus(t, srv, 200, "GET", a.path("/records"), other, nil)
		// Keys and the operator have nothing to log out.
		MustError(t, srv.Do(t, "POST", "/api/v1/logout", a.Key, nil), 403, "forbidden")
		MustError(t, srv.Do(t, "POST", "/api/v1/logout", OperatorToken, nil), 403, "forbidden")
		peopleStatus(t, srv, 201, "POST", a.path("/records"), a.Key, records(rec()))
	})
}

// TestTokenExpiry checks that tokens expire after --token-ttl.
func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	const ttl = 2 * time.Second
	srv := MustStart(t, "--token-ttl", ttl.String())
	a := srv.MustAccount(t, "expiry", false)
	before := time.Now()
	v := srv.Must(t, 200, "POST", "/api/v1/login", "", map[string]string{"account_id": a.ID, "login_name": "admin", "password": "correct horse battery"}).JSON(t)
	after := time.Now()
	tok := v["token"].(string)
	exp := mustTime(t, v["expires_at"].(string))
	// The token was issued between before and after, however long the
	// login took (a second either way for the rounding of expires_at).
	if exp.Before(before.Add(ttl-time.Second)) || exp.After(after.Add(ttl+time.Second)) {
		t.Fatalf("expires_at: got %v after the login began and %v after it ended, want %v", exp.Sub(before), exp.Sub(after), ttl)
	}
	peopleStatus(t, srv, 200, "GET", a.path(""), tok, nil)
	time.Sleep(time.Until(exp) + time.Second)
	MustError(t, srv.Do(t, "GET", a.path(""), tok, nil), 401, "unauthenticated")
	// A new login works again.
	tok = peopleLogin(t, srv, a, "admin", "correct horse battery")
	peopleStatus(t, srv, 200, "GET", a.path(""), tok, nil)
}

// TestTokenDefaultTTL checks the default token lifetime: 12 hours.
func TestTokenDefaultTTL(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "ttl", false)
	before := time.Now()
	v := srv.Must(t, 200, "POST", "/api/v1/login", "", map[string]string{"account_id": a.ID, "login_name": "admin", "password": "correct horse battery"}).JSON(t)
	after := time.Now()
	if exp := mustTime(t, v["expires_at"].(string)); exp.Before(before.Add(12*time.Hour-time.Second)) || exp.After(after.Add(12*time.Hour+time.Second)) {
		t.Fatalf("expires_at: got %v after the login began, want 12h", exp.Sub(before))
	}
}

// TestLoginThrottle checks that failed logins are throttled per account and
// login name, and that the real user gets in again after the window.
func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	// The window is far longer than a few logins take on a loaded machine
	// (each hashes a password): the failures below are all inside it.
	const window = 20 * time.Second
	srv := MustStart(t, "--login-attempts", "3", "--login-window", window.String())
	a := srv.MustAccount(t, "throttle", false)
	b := srv.MustAccount(t, "throttle-other", false)
	peopleCreateUser(t, srv, a, "bystander", peopleProfileIDs(t, srv, a)["Agent"])
	login := func(acct *Account, name, pw string) *Response {
		return srv.Do(t, "POST", "/api/v1/login", "", map[string]string{"account_id": acct.ID, "login_name": name, "password": pw})
	}
	for i := range 3 {
		MustError(t, login(a, "admin", "wrong password "+strconv.Itoa(i)), 401, "unauthenticated")
	}
	r := login(a, "admin", "correct horse battery")
	MustError(t, r, 429, "too_many_requests")
	ra := r.Header.Get("Retry-After")
	secs, err := strconv.Atoi(ra)
	if err != nil || secs < 1 || secs > int(window/time.Second) {
		t.Fatalf("Retry-After: got %q, want 1 to %d seconds", ra, int(window/time.Second))
	}
	MustError(t, login(a, "ADMIN", "wrong again"), 429, "too_many_requests")

	// Only that login name of that account is throttled.
	peopleLogin(t, srv, a, "bystander", peoplePassword)
	peopleLogin(t, srv, b, "admin", "correct horse battery")

	time.Sleep(time.Duration(secs)*time.Second + 100*time.Millisecond)
	tok := peopleLogin(t, srv, a, "admin", "correct horse battery")
	peopleStatus(t, srv, 200, "GET", a.path(""), tok, nil)

	// A success forgets the failures: two more wrong ones are not throttled yet.
	for range 2 {
		MustError(t, login(a, "admin", "wrong"), 401, "unauthenticated")
	}
	peopleLogin(t, srv, a, "admin", "correct horse battery")

	// Unknown login names are throttled the same way, without telling they are unknown.
	for range 3 {
		MustError(t, login(a, "nobody", "wrong"), 401, "unauthenticated")
	}
	MustError(t, login(a, "nobody", "wrong"), 429, "too_many_requests")
}

// selfAuditLog reads the records an account gains, in seq order.
type selfAuditLog struct {
	srv  *Server
	a    *Account
	last int64 // the seq of the last record read; -1 for none (seqs start at 0)
}

// next returns the records stored since the last call, oldest first.
func (l *selfAuditLog) next(tb testing.TB) []Record {
	tb.Helper()
	var out []Record
	for _, r := range l.srv.ListAll(tb, l.a, nil) {
		if r.Seq > l.last {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(x, y Record) int { return int(x.Seq - y.Seq) })
	if len(out) > 0 {
		l.last = out[len(out)-1].Seq
	}
	return out
}

// selfAuditWant is one expected record of a change made through the service.
type selfAuditWant struct{ element, old, new string }

// checkSelfAudit checks, field by field, that recs are the records of one
// change of the object, made by the acting user, with exactly the elements of want.
func checkSelfAudit(tb testing.TB, recs []Record, objectType, objectID, objectName, action string, by map[string]any, want ...selfAuditWant) {
	tb.Helper()
	if len(recs) != len(want) {
		tb.Fatalf("%s %s %s: got %d records, want %d: %+v", action, objectType, objectName, len(recs), len(want), recs)
	}
	byElement := map[string]Record{}
	for _, r := range recs {
		if _, dup := byElement[r.Element]; dup {
			tb.Fatalf("element %q recorded twice: %+v", r.Element, recs)
		}
		byElement[r.Element] = r
	}
	for _, w := range want {
		r, ok := byElement[w.element]
		if !ok {
			tb.Fatalf("%s %s: got no record of element %q in %+v", action, objectType, w.element, recs)
		}
		where := objectType + " " + objectName + " " + w.element
		check := func(field, got, want string) {
			tb.Helper()
			if got != want {
				tb.Errorf("%s: %s: got %q, want %q", where, field, got, want)
			}
		}
		check("object_type", r.ObjectType, objectType)
		check("object_id", r.ObjectID, objectID)
		check("object_name", r.ObjectName, objectName)
		check("action_type", r.ActionType, action)
		check("old_value", r.OldValue, w.old)
		check("new_value", r.NewValue, w.new)
		check("source", r.Source, "audittrail")
		check("originator.id", r.Originator.ID, by["id"].(string))
		check("originator.name", r.Originator.Name, by["name"].(string))
		check("originator.login_name", r.Originator.LoginName, by["login_name"].(string))
		check("change_id", r.ChangeID, recs[0].ChangeID)
		if r.Automatic {
			tb.Errorf("%s: automatic: got true, want false", where)
		}
		if d := time.Since(r.Time(tb)); d < -time.Minute || d > time.Minute {
			tb.Errorf("%s: date %s: want about now", where, r.Date)
		}
	}
	if recs[0].ChangeID == "" {
		tb.Errorf("change_id: got none, want one per change")
	}
}

// TestSelfAudit checks that changes made through the service to users,
// profiles, publisher keys and account settings are recorded in the
// account's trail (issue 3, item 5), and that logins and logouts are not.
func TestSelfAudit(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "self-audit", true)
	log := &selfAuditLog{srv: srv, a: a, last: -1}
	var admin map[string]any
	for _, u := range srv.Must(t, 200, "GET", a.path("/users"), a.AdminToken, nil).JSON(t)["users"].([]any) {
		if u := u.(map[string]any); u["login_name"] == "admin" {
			admin = u
		}
	}
	if admin == nil || admin["name"] != "Ada Admin" {
		t.Fatalf("admin: got %v", admin)
	}
	prof := peopleProfileIDs(t, srv, a)

	// MustAccount enabled the trail: that change is the first record (the
	// key it created before is not recorded: the trail was off).
	checkSelfAudit(t, log.next(t), "account_settings", a.ID, "Account "+a.ID, "edit", admin,
		selfAuditWant{"Audit trail enabled", "false", "true"})

	t.Run("User", func(t *testing.T) {
		u := srv.Must(t, 201, "POST", a.path("/users"), a.AdminToken, map[string]any{
			"login_name": "jdoe", "name": "Jane Doe", "email": "jane@example.com", "profile_id": prof["Agent"], "password": "jane-password-1",
		}).JSON(t)
		id := u["id"].(string)
		checkSelfAudit(t, log.next(t), "users", id, "Jane Doe", "add", admin,
			selfAuditWant{"Login name", "", "jdoe"}, selfAuditWant{"Name", "", "Jane Doe"}, selfAuditWant{"Email", "", "jane@example.com"},
			selfAuditWant{"Profile", "", "Agent"}, selfAuditWant{"Enabled", "", "true"}, selfAuditWant{"Password", "", "********"})

		srv.Must(t, 200, "PATCH", a.path("/users/"+id), a.AdminToken, map[string]any{"email": "jane.doe@example.com", "profile_id": prof["Agent Manager"]})
		checkSelfAudit(t, log.next(t), "users", id, "Jane Doe", "edit", admin,
			selfAuditWant{"Email", "jane@example.com", "jane.doe@example.com"}, selfAuditWant{"Profile", "Agent", "Agent Manager"})

		srv.Must(t, 200, "PATCH", a.path("/users/"+id), a.AdminToken, map[string]any{"password": "jane-password-2"})
		checkSelfAudit(t, log.next(t), "users", id, "Jane Doe", "edit", admin, selfAuditWant{"Password", "********", "********"})

		srv.Must(t, 200, "PATCH", a.path("/users/"+id), a.AdminToken, map[string]any{"enabled": false})
		checkSelfAudit(t, log.next(t), "users", id, "Jane Doe", "edit", admin, selfAuditWant{"Enabled", "true", "false"})

		// A PATCH that changes nothing records nothing.
		srv.Must(t, 200, "PATCH", a.path("/users/"+id), a.AdminToken, map[string]any{"email": "jane.doe@example.com"})
		if recs := log.next(t); len(recs) != 0 {
			t.Fatalf("PATCH without a change: got %+v, want no records", recs)
		}

		srv.Must(t, 204, "DELETE", a.path("/users/"+id), a.AdminToken, nil)
		checkSelfAudit(t, log.next(t), "users", id, "Jane Doe", "delete", admin,
			selfAuditWant{"Login name", "jdoe", ""}, selfAuditWant{"Name", "Jane Doe", ""}, selfAuditWant{"Email", "jane.doe@example.com", ""},
			selfAuditWant{"Profile", "Agent Manager", ""}, selfAuditWant{"Enabled", "false", ""}, selfAuditWant{"Password", "********", ""})
	})

	t.Run("ActingUser", func(t *testing.T) {
		// The originator is whoever acts: another administrator here.
		id := peopleCreateUser(t, srv, a, "second-admin", prof["Administrator"])
		log.next(t)
		tok := peopleLogin(t, srv, a, "second-admin", peoplePassword)
		second := srv.Must(t, 200, "GET", a.path("/users/"+id), tok, nil).JSON(t)
		srv.Must(t, 200, "PATCH", a.path("/users/"+id), tok, map[string]any{"name": "Second Admin"})
		second["name"] = "User second-admin" // the name it acted under
		checkSelfAudit(t, log.next(t), "users", id, "Second Admin", "edit", second, selfAuditWant{"Name", "User second-admin", "Second Admin"})
	})

	t.Run("Profile", func(t *testing.T) {
		p := srv.Must(t, 201, "POST", a.path("/profiles"), a.AdminToken, map[string]any{"name": "Auditors", "description": "Read the trail", "role": "administrator"}).JSON(t)
		id := p["id"].(string)
		checkSelfAudit(t, log.next(t), "permissions", id, "Auditors", "add", admin,
			selfAuditWant{"Name", "", "Auditors"}, selfAuditWant{"Description", "", "Read the trail"}, selfAuditWant{"Role", "", "Administrator"})

		srv.Must(t, 200, "PATCH", a.path("/profiles/"+id), a.AdminToken, map[string]any{"permissions": []string{"audit_trail.view"}})
		checkSelfAudit(t, log.next(t), "permissions", id, "Auditors", "edit", admin, selfAuditWant{"Permissions", "", "View audit trail"})

		p2 := srv.Must(t, 201, "POST", a.path("/profiles"), a.AdminToken, map[string]any{"name": "Viewers", "role": "administrator", "permissions": []string{"audit_trail.view"}}).JSON(t)
		checkSelfAudit(t, log.next(t), "permissions", p2["id"].(string), "Viewers", "add", admin,
			selfAuditWant{"Name", "", "Viewers"}, selfAuditWant{"Role", "", "Administrator"}, selfAuditWant{"Permissions", "", "View audit trail"})

		srv.Must(t, 200, "PATCH", a.path("/profiles/"+id), a.AdminToken, map[string]any{"role": "agent", "permissions": []string{}})
		checkSelfAudit(t, log.next(t), "permissions", id, "Auditors", "edit", admin,
			selfAuditWant{"Role", "Administrator", "Agent"}, selfAuditWant{"Permissions", "View audit trail", ""})

		// Refused changes record nothing.
		MustError(t, srv.Do(t, "PATCH", a.path("/profiles/"+id), a.AdminToken, map[string]any{"permissions": []string{"audit_trail.view"}}), 422, "permission_not_allowed_for_role")
		MustError(t, srv.Do(t, "PATCH", a.path("/profiles/"+prof["Administrator"]), a.AdminToken, map[string]any{"name": "Boss"}), 403, "forbidden")
		if recs := log.next(t); len(recs) != 0 {
			t.Fatalf("refused changes: got %+v, want no records", recs)
		}

		srv.Must(t, 204, "DELETE", a.path("/profiles/"+id), a.AdminToken, nil)
		checkSelfAudit(t, log.next(t), "permissions", id, "Auditors", "delete", admin,
			selfAuditWant{"Name", "Auditors", ""}, selfAuditWant{"Description", "Read the trail", ""}, selfAuditWant{"Role", "Agent", ""})
	})

	t.Run("PublisherKey", func(t *testing.T) {
		k := srv.Must(t, 201, "POST", a.path("/publisher-keys"), a.AdminToken, map[string]any{"name": "CRM"}).JSON(t)
		id, prefix, secret := k["id"].(string), k["prefix"].(string), k["key"].(string)
		if prefix == "" || !strings.HasPrefix(secret, prefix) {
			t.Fatalf("key: got %v", k)
		}
		recs := log.next(t)
		checkSelfAudit(t, recs, "publisher_keys", id, "CRM", "add", admin,
			selfAuditWant{"Name", "", "CRM"}, selfAuditWant{"Key prefix", "", prefix}, selfAuditWant{"Status", "", "Active"})
		srv.Must(t, 204, "DELETE", a.path("/publisher-keys/"+id), a.AdminToken, nil)
		checkSelfAudit(t, log.next(t), "publisher_keys", id, "CRM", "edit", admin, selfAuditWant{"Status", "Active", "Revoked"})
		srv.Must(t, 204, "DELETE", a.path("/publisher-keys/"+id), a.AdminToken, nil)
		if recs := log.next(t); len(recs) != 0 {
			t.Fatalf("revoking a revoked key: got %+v, want no records", recs)
		}
	})

	t.Run("AccountSettings", func(t *testing.T) {
		srv.Must(t, 200, "PATCH", a.path(""), a.AdminToken, map[string]any{"timezone": "America/New_York"})
		checkSelfAudit(t, log.next(t), "account_settings", a.ID, "Account "+a.ID, "edit", admin, selfAuditWant{"Time zone", "Europe/Paris", "America/New_York"})
		srv.Must(t, 200, "PATCH", a.path(""), a.AdminToken, map[string]any{"name": "Self Audit Inc."})
		checkSelfAudit(t, log.next(t), "account_settings", a.ID, "Self Audit Inc.", "edit", admin, selfAuditWant{"Account name", "Account " + a.ID, "Self Audit Inc."})
		srv.Must(t, 200, "PATCH", a.path(""), a.AdminToken, map[string]any{"name": "Self Audit Inc.", "timezone": "America/New_York"})
		if recs := log.next(t); len(recs) != 0 {
			t.Fatalf("PATCH without a change: got %+v, want no records", recs)
		}
	})

	t.Run("NotLoginsOrLogouts", func(t *testing.T) {
		tok := peopleLogin(t, srv, a, "admin", "correct horse battery")
		MustError(t, srv.Do(t, "POST", "/api/v1/login", "", map[string]string{"account_id": a.ID, "login_name": "admin", "password": "wrong password"}), 401, "unauthenticated")
		peopleStatus(t, srv, 204, "POST", "/api/v1/logout", tok, nil)
		if recs := log.next(t); len(recs) != 0 {
			t.Fatalf("logins and logouts: got %+v, want no records", recs)
		}
	})

	t.Run("NothingWhileDisabled", func(t *testing.T) {
		srv.Must(t, 200, "PATCH", a.path(""), a.AdminToken, map[string]any{"audit_trail_enabled": false})
		checkSelfAudit(t, log.next(t), "account_settings", a.ID, "Self Audit Inc.", "edit", admin, selfAuditWant{"Audit trail enabled", "true", "false"})

		id := peopleCreateUser(t, srv, a, "quiet", prof["Agent"])
		srv.Must(t, 200, "PATCH", a.path("/users/"+id), a.AdminToken, map[string]any{"email": "quiet@example.org", "password": "quiet-password-2"})
		pid := srv.Must(t, 201, "POST", a.path("/profiles"), a.AdminToken, map[string]any{"name": "Quiet", "role": "agent"}).JSON(t)["id"].(string)
		srv.Must(t, 204, "DELETE", a.path("/profiles/"+pid), a.AdminToken, nil)
		kid := srv.Must(t, 201, "POST", a.path("/publisher-keys"), a.AdminToken, map[string]any{"name": "Quiet key"}).JSON(t)["id"].(string)
		srv.Must(t, 204, "DELETE", a.path("/publisher-keys/"+kid), a.AdminToken, nil)
		srv.Must(t, 200, "PATCH", a.path(""), a.AdminToken, map[string]any{"timezone": "Asia/Tokyo"})
		srv.Must(t, 204, "DELETE", a.path("/users/"+id), a.AdminToken, nil)
		if recs := log.next(t); len(recs) != 0 {
			t.Fatalf("changes while the trail is off: got %+v, want no records", recs)
		}

		srv.Must(t, 200, "PATCH", a.path(""), a.AdminToken, map[string]any{"audit_trail_enabled": true})
		checkSelfAudit(t, log.next(t), "account_settings", a.ID, "Self Audit Inc.", "edit", admin, selfAuditWant{"Audit trail enabled", "false", "true"})
	})
}

// TestSelfLockout checks that administrators cannot lock themselves out:
// they cannot delete or disable their own user, nor give it a profile
// without the administrator role (409); another administrator can.
func TestSelfLockout(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "lockout", false)
	prof := peopleProfileIDs(t, srv, a)
	me := srv.Must(t, 200, "GET", a.path("/users"), a.AdminToken, nil).JSON(t)["users"].([]any)[0].(map[string]any)["id"].(string)

	MustError(t, srv.Do(t, "DELETE", a.path("/users/"+me), a.AdminToken, nil), 409, "conflict")
	MustError(t, srv.Do(t, "PATCH", a.path("/users/"+me), a.AdminToken, map[string]any{"enabled": false}), 409, "conflict")
	MustError(t, srv.Do(t, "PATCH", a.path("/users/"+me), a.AdminToken, map[string]any{"profile_id": prof["Agent"]}), 409, "conflict")
	srv.Must(t, 200, "PATCH", a.path("/users/"+me), a.AdminToken, map[string]any{"email": "still@example.com"})

	// A second administrator may do all three to the first.
	srv.Must(t, 201, "POST", a.path("/users"), a.AdminToken, map[string]any{
		"login_name": "second", "name": "Second Admin", "profile_id": prof["Administrator"], "password": "second-password-1"})
	tok := srv.Must(t, 200, "POST", "/api/v1/login", "", map[string]string{"account_id": a.ID, "login_name": "second", "password": "second-password-1"}).JSON(t)["token"].(string)
	srv.Must(t, 200, "PATCH", a.path("/users/"+me), tok, map[string]any{"enabled": false})
	srv.Must(t, 204, "DELETE", a.path("/users/"+me), tok, nil)
}
