package http

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
)

// grantDenied in a cell of the granting matrix: 403 forbidden whose
// message says that only a holder of audit_trail.view can grant it (SPEC
// §4 "Granting the permission"). A plain 403 in a cell is a refusal for
// another reason (not an administrator, the built-in Administrator
// profile), whose message does not say so.
const grantDenied = -403

// grantMessage is what the message of a grantDenied refusal says.
const grantMessage = "only a user who holds the audit_trail.view permission can grant it"

// grantRow is a row of the granting matrix: the people routes answer as
// any people route does to everyone but the two administrators of A, one
// whose profile lacks audit_trail.view and one who holds it.
//
//	none op   keyA keyB agent noVw vw   admB
func grantRow(noView, view int) [nPrincipals]int {
	return [nPrincipals]int{401, 403, 403, 404, 403, noView, view, 404}
}

// me is who makes one request of the granting matrix, and on what.
type me struct {
	cred    string
	user    string // her own user, for a request on herself
	profile string // her own profile, likewise
}

// grantCase is one row of the granting matrix: a people route, the
// resource and body of its request, and what each principal gets.
type grantCase struct {
	name    string
	pattern string
	// self: the request is on the acting user herself (her user or her
	// profile). Each cell is then made by a fresh user of the principal's
	// kind, with a fresh profile of her own, so that a change she may make
	// to herself leaves the matrix's principals as they were.
	self bool
	// req returns the {id} of the path (a fresh resource of account A, or
	// "" for a collection) and the body.
	req  func(g *grantEnv, m me) (id string, body any)
	want [nPrincipals]int
}

// grantEnv is the authorization matrix's server with the profiles of
// account A that the granting rule is about.
type grantEnv struct {
	*authzEnv
	administrator string // the built-in Administrator profile (holds audit_trail.view)
	agent         string // the built-in Agent profile
	noView        string // the custom administrator profile without audit_trail.view
}

func newGrantEnv(t *testing.T) *grantEnv {
	e := newAuthzEnv(t)
	g := &grantEnv{authzEnv: e}
	for _, p := range e.must(200, "GET", "/api/v1/accounts/acct-a/profiles", e.creds[pAdminVwA], nil)["profiles"].([]any) {
		p := p.(map[string]any)
		switch p["name"] {
		case audittrail.AdministratorProfileName:
			g.administrator = p["id"].(string)
		case "Agent":
			g.agent = p["id"].(string)
		case "Administrator without audit trail":
			g.noView = p["id"].(string)
		}
	}
	if g.administrator == "" || g.agent == "" || g.noView == "" {
		t.Fatalf("profiles of A: %+v", g)
	}
	return g
}

// profile makes a fresh custom profile of A through the store.
func (g *grantEnv) profile(role string, perms ...string) string {
	g.t.Helper()
	p := &audittrail.Profile{ID: audittrail.NewID("prf_"), AccountID: "acct-a", Name: fmt.Sprintf("Grant profile %d", g.next()),
		Role: role, Permissions: append([]string{}, perms...)}
	g.srv.change(g.t, "acct-a", func(tx audittrail.Tx) error { return tx.CreateProfile(p) })
	return p.ID
}

// viewers makes a fresh custom administrator profile that holds
// audit_trail.view.
func (g *grantEnv) viewers() string {
	return g.profile(audittrail.RoleAdministrator, audittrail.PermissionViewAuditTrail)
}

// user makes a fresh user of A with the profile through the store.
func (g *grantEnv) user(profile string) string {
	g.t.Helper()
	n := g.next()
	u := &audittrail.User{ID: audittrail.NewID("usr_"), AccountID: "acct-a", LoginName: fmt.Sprintf("grant-%d", n),
		Name: fmt.Sprintf("Grant %d", n), ProfileID: profile, Enabled: true, PasswordHash: g.hash}
	g.srv.change(g.t, "acct-a", func(tx audittrail.Tx) error { return tx.CreateUser(u) })
	return u.ID
}

// token issues a token to a user of A.
func (g *grantEnv) token(user string) string {
	g.t.Helper()
	secret := audittrail.NewSecret("att_")
	now := time.Now()
	g.srv.change(g.t, "acct-a", func(tx audittrail.Tx) error {
		return tx.CreateToken(&audittrail.Token{Hash: audittrail.HashSecret(secret), AccountID: "acct-a",
			UserID: user, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	})
	return secret
}

// actor returns who makes the request of principal p: p itself, or for a
// request on herself a fresh user of A of p's kind on a fresh profile of
// her own (the other principals act on such a user of A, which they may
// not).
func (g *grantEnv) actor(p int, self bool) me {
	g.t.Helper()
	m := me{cred: g.creds[p]}
	if !self {
		return m
	}
	switch p {
	case pAgentA:
		m.profile = g.profile(audittrail.RoleAgent)
	case pAdminVwA:
		m.profile = g.viewers()
	default:
		m.profile = g.profile(audittrail.RoleAdministrator)
	}
	m.user = g.user(m.profile)
	if p == pAgentA || p == pAdminNoVwA || p == pAdminVwA {
		m.cred = g.token(m.user)
	}
	return m
}

// grantMatrix is the granting rule on every people route (SPEC §4
// "Granting the permission"): creating or changing a profile so that it
// holds audit_trail.view, changing the permissions of a profile that holds
// it, and giving a user (oneself included) a profile that holds it — the
// built-in Administrator too — need the acting user to hold it; everything
// else about people stays open to every administrator.
var grantMatrix = []grantCase{
	// Profiles.
	{name: "read the profiles", pattern: "GET /api/v1/accounts/{account}/profiles",
		req:  func(g *grantEnv, m me) (string, any) { return "", nil },
		want: grantRow(200, 200)},
	{name: "read a profile that holds it", pattern: "GET /api/v1/accounts/{account}/profiles/{id}",
		req:  func(g *grantEnv, m me) (string, any) { return g.viewers(), nil },
		want: grantRow(200, 200)},
	{name: "create a profile that holds it", pattern: "POST /api/v1/accounts/{account}/profiles",
		req: func(g *grantEnv, m me) (string, any) {
			return "", map[string]any{"name": fmt.Sprintf("Readers %d", g.next()), "role": "administrator", "permissions": []string{"audit_trail.view"}}
		},
		want: grantRow(grantDenied, 201)},
	{name: "create an administrator profile without it", pattern: "POST /api/v1/accounts/{account}/profiles",
		req: func(g *grantEnv, m me) (string, any) {
			return "", map[string]any{"name": fmt.Sprintf("Admins %d", g.next()), "role": "administrator", "permissions": []string{}}
		},
		want: grantRow(201, 201)},
	{name: "create an agent profile that holds it", pattern: "POST /api/v1/accounts/{account}/profiles",
		req: func(g *grantEnv, m me) (string, any) {
			return "", map[string]any{"name": fmt.Sprintf("Agents %d", g.next()), "role": "agent", "permissions": []string{"audit_trail.view"}}
		},
		want: grantRow(422, 422)},
	{name: "add it to a profile", pattern: "PATCH /api/v1/accounts/{account}/profiles/{id}",
		req: func(g *grantEnv, m me) (string, any) {
			return g.profile(audittrail.RoleAdministrator), map[string]any{"permissions": []string{"audit_trail.view"}}
		},
		want: grantRow(grantDenied, 200)},
	{name: "add it to a profile, changing its role", pattern: "PATCH /api/v1/accounts/{account}/profiles/{id}",
		req: func(g *grantEnv, m me) (string, any) {
			return g.profile(audittrail.RoleAgentManager), map[string]any{"role": "administrator", "permissions": []string{"audit_trail.view"}}
		},
		want: grantRow(grantDenied, 200)},
	{name: "add it to one's own profile", pattern: "PATCH /api/v1/accounts/{account}/profiles/{id}", self: true,
		req: func(g *grantEnv, m me) (string, any) {
			return m.profile, map[string]any{"permissions": []string{"audit_trail.view"}}
		},
		want: grantRow(grantDenied, 200)},
	{name: "remove it from a profile that holds it", pattern: "PATCH /api/v1/accounts/{account}/profiles/{id}",
		req:  func(g *grantEnv, m me) (string, any) { return g.viewers(), map[string]any{"permissions": []string{}} },
		want: grantRow(grantDenied, 200)},
	{name: "remove it from a profile that holds it, changing its role", pattern: "PATCH /api/v1/accounts/{account}/profiles/{id}",
		req: func(g *grantEnv, m me) (string, any) {
			return g.viewers(), map[string]any{"role": "agent_manager", "permissions": []string{}}
		},
		want: grantRow(grantDenied, 200)},
	{name: "restate the permissions of a profile that holds it", pattern: "PATCH /api/v1/accounts/{account}/profiles/{id}",
		req: func(g *grantEnv, m me) (string, any) {
			return g.viewers(), map[string]any{"permissions": []string{"audit_trail.view", "audit_trail.view"}}
		},
		want: grantRow(200, 200)},
	{name: "rename a profile that holds it", pattern: "PATCH /api/v1/accounts/{account}/profiles/{id}",
		req: func(g *grantEnv, m me) (string, any) {
			return g.viewers(), map[string]any{"name": fmt.Sprintf("Renamed %d", g.next()), "description": "reads the trail", "role": "administrator"}
		},
		want: grantRow(200, 200)},
	{name: "change the role of a profile that holds it, keeping it", pattern: "PATCH /api/v1/accounts/{account}/profiles/{id}",
		req:  func(g *grantEnv, m me) (string, any) { return g.viewers(), map[string]any{"role": "agent_manager"} },
		want: grantRow(422, 422)},
	{name: "change the built-in Administrator profile", pattern: "PATCH /api/v1/accounts/{account}/profiles/{id}",
		req: func(g *grantEnv, m me) (string, any) {
			return g.administrator, map[string]any{"permissions": []string{}}
		},
		want: grantRow(403, 403)},
	{name: "delete a profile that holds it", pattern: "DELETE /api/v1/accounts/{account}/profiles/{id}",
		req:  func(g *grantEnv, m me) (string, any) { return g.viewers(), nil },
		want: grantRow(204, 204)},
	{name: "delete a profile that holds it and a user has", pattern: "DELETE /api/v1/accounts/{account}/profiles/{id}",
		req: func(g *grantEnv, m me) (string, any) {
			id := g.viewers()
			g.user(id)
			return id, nil
		},
		want: grantRow(409, 409)},
	{name: "delete the built-in Administrator profile", pattern: "DELETE /api/v1/accounts/{account}/profiles/{id}",
		req:  func(g *grantEnv, m me) (string, any) { return g.administrator, nil },
		want: grantRow(403, 403)},

	// Users.
	{name: "read the users", pattern: "GET /api/v1/accounts/{account}/users",
		req:  func(g *grantEnv, m me) (string, any) { return "", nil },
		want: grantRow(200, 200)},
	{name: "read a user who holds it", pattern: "GET /api/v1/accounts/{account}/users/{id}",
		req:  func(g *grantEnv, m me) (string, any) { return g.user(g.administrator), nil },
		want: grantRow(200, 200)},
	{name: "create a user with the built-in Administrator profile", pattern: "POST /api/v1/accounts/{account}/users",
		req: func(g *grantEnv, m me) (string, any) {
			return "", map[string]any{"login_name": fmt.Sprintf("new-admin-%d", g.next()), "profile_id": g.administrator, "password": "authz-password-1"}
		},
		want: grantRow(grantDenied, 201)},
	{name: "create a user with a custom profile that holds it", pattern: "POST /api/v1/accounts/{account}/users",
		req: func(g *grantEnv, m me) (string, any) {
			return "", map[string]any{"login_name": fmt.Sprintf("new-reader-%d", g.next()), "profile_id": g.viewers(), "password": "authz-password-1"}
		},
		want: grantRow(grantDenied, 201)},
	{name: "create an administrator without it", pattern: "POST /api/v1/accounts/{account}/users",
		req: func(g *grantEnv, m me) (string, any) {
			return "", map[string]any{"login_name": fmt.Sprintf("new-no-view-%d", g.next()), "profile_id": g.noView, "password": "authz-password-1"}
		},
		want: grantRow(201, 201)},
	{name: "give a user the built-in Administrator profile", pattern: "PATCH /api/v1/accounts/{account}/users/{id}",
		req: func(g *grantEnv, m me) (string, any) {
			return g.user(g.agent), map[string]any{"profile_id": g.administrator}
		},
		want: grantRow(grantDenied, 200)},
	{name: "give a user a custom profile that holds it", pattern: "PATCH /api/v1/accounts/{account}/users/{id}",
		req: func(g *grantEnv, m me) (string, any) {
			return g.user(g.noView), map[string]any{"profile_id": g.viewers()}
		},
		want: grantRow(grantDenied, 200)},
	{name: "move a user who holds it to another profile that holds it", pattern: "PATCH /api/v1/accounts/{account}/users/{id}",
		req: func(g *grantEnv, m me) (string, any) {
			return g.user(g.administrator), map[string]any{"profile_id": g.viewers()}
		},
		want: grantRow(grantDenied, 200)},
	{name: "give oneself the built-in Administrator profile", pattern: "PATCH /api/v1/accounts/{account}/users/{id}", self: true,
		req:  func(g *grantEnv, m me) (string, any) { return m.user, map[string]any{"profile_id": g.administrator} },
		want: grantRow(grantDenied, 200)},
	{name: "give oneself a custom profile that holds it", pattern: "PATCH /api/v1/accounts/{account}/users/{id}", self: true,
		req:  func(g *grantEnv, m me) (string, any) { return m.user, map[string]any{"profile_id": g.viewers()} },
		want: grantRow(grantDenied, 200)},
	{name: "give oneself another profile without it", pattern: "PATCH /api/v1/accounts/{account}/users/{id}", self: true,
		req:  func(g *grantEnv, m me) (string, any) { return m.user, map[string]any{"profile_id": g.noView} },
		want: grantRow(200, 200)},
	{name: "change the other fields of a user who holds it", pattern: "PATCH /api/v1/accounts/{account}/users/{id}",
		req: func(g *grantEnv, m me) (string, any) {
			n := g.next()
			return g.user(g.administrator), map[string]any{"name": fmt.Sprintf("Renamed %d", n), "email": fmt.Sprintf("r%d@example.com", n), "profile_id": g.administrator}
		},
		want: grantRow(200, 200)},
	{name: "take it from a user", pattern: "PATCH /api/v1/accounts/{account}/users/{id}",
		req: func(g *grantEnv, m me) (string, any) {
			return g.user(g.administrator), map[string]any{"profile_id": g.noView}
		},
		want: grantRow(200, 200)},
	{name: "disable a user who holds it", pattern: "PATCH /api/v1/accounts/{account}/users/{id}",
		req: func(g *grantEnv, m me) (string, any) {
			return g.user(g.administrator), map[string]any{"enabled": false}
		},
		want: grantRow(200, 200)},
	{name: "delete a user who holds it", pattern: "DELETE /api/v1/accounts/{account}/users/{id}",
		req:  func(g *grantEnv, m me) (string, any) { return g.user(g.administrator), nil },
		want: grantRow(204, 204)},
}

// isPeopleRoute tells the routes of users and profiles.
func isPeopleRoute(pattern string) bool {
	return strings.Contains(pattern, "/{account}/users") || strings.Contains(pattern, "/{account}/profiles")
}

// TestAuthorizationMatrix_Granting walks grantMatrix (SPEC §4 "Granting
// the permission", issue 14): every people route has rows, and each cell
// answers its status; a refusal by the granting rule is 403 forbidden
// whose message says only a holder can grant it. Afterwards the
// administrator without the permission still cannot read the trail.
func TestAuthorizationMatrix_Granting(t *testing.T) {
	for _, rt := range (&Server{}).routes() {
		if isPeopleRoute(rt.pattern) && !slices.ContainsFunc(grantMatrix, func(c grantCase) bool { return c.pattern == rt.pattern }) {
			t.Errorf("people route %s has no row in the granting matrix (grantMatrix in authz_grant_test.go)", rt.pattern)
		}
	}
	for _, c := range grantMatrix {
		if _, ok := authzMatrix[c.pattern]; !ok || !isPeopleRoute(c.pattern) {
			t.Errorf("granting matrix row %q: %s is not a people route of the authorization matrix", c.name, c.pattern)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	g := newGrantEnv(t)
	for _, c := range grantMatrix {
		for p := range nPrincipals {
			m := g.actor(p, c.self)
			id, body := c.req(g, m)
			method, path, _ := strings.Cut(c.pattern, " ")
			path = strings.ReplaceAll(path, "{account}", "acct-a")
			path = strings.ReplaceAll(path, "{id}", id)
			status, b := g.do(method, path, m.cred, body)
			want, code := c.want[p], ""
			if want == grantDenied {
				want = 403
			}
			if status != want {
				t.Errorf("%s as %s (%s %s): got %d, want %d: %s", c.name, principalNames[p], method, path, status, want, b)
				continue
			}
			switch {
			case status == 422:
				code = "" // validation_failed or permission_not_allowed_for_role
			case status >= 400:
				code = wantCode[status]
				if status == 409 {
					code = audittrail.ECONFLICT
				}
			default:
				continue
			}
			var eb errorBody
			if err := json.Unmarshal(b, &eb); err != nil || (code != "" && eb.Error.Code != code) {
				t.Errorf("%s as %s: got body %s, want error code %s", c.name, principalNames[p], b, code)
				continue
			}
			if says := strings.Contains(strings.ToLower(eb.Error.Message), grantMessage); says != (c.want[p] == grantDenied) {
				t.Errorf("%s as %s: message %q: says only a holder can grant it: %v, want %v", c.name, principalNames[p], eb.Error.Message, says, !says)
			}
		}
	}

	// Nothing gave the administrator without the permission the trail.
	if status, b := g.do("GET", "/api/v1/accounts/acct-a/records", g.creds[pAdminNoVwA], nil); status != 403 {
		t.Errorf("GET records as %s after the walk: got %d, want 403: %s", principalNames[pAdminNoVwA], status, b)
	}
	prof := g.must(200, "GET", "/api/v1/accounts/acct-a/profiles/"+g.noView, g.creds[pAdminVwA], nil)
	if perms, _ := prof["permissions"].([]any); len(perms) != 0 {
		t.Errorf("the profile without the permission got %v", perms)
	}
}
