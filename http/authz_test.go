package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
)

// The principals of the authorization matrix, in the order of its columns.
const (
	pNone       = iota // no credential
	pOperator          // the operator token
	pKeyA              // a publisher key of account A
	pKeyB              // a publisher key of account B
	pAgentA            // a user of A whose profile has the agent role
	pAdminNoVwA        // a user of A with a custom administrator profile without audit_trail.view
	pAdminVwA          // a user of A with the built-in Administrator profile (holds audit_trail.view)
	pAdminB            // the administrator of account B
	nPrincipals
)

var principalNames = [nPrincipals]string{"none", "operator", "key-A", "key-B", "agent-A", "admin-no-view-A", "admin-view-A", "admin-B"}

// Rows of the matrix by kind of route; every request is made on account A.
var (
	allSame = func(status int) [nPrincipals]int {
		var r [nPrincipals]int
		for i := range r {
			r[i] = status
		}
		return r
	}
	//                                      none op   keyA keyB agent noVw vw   admB
	adminRow = func(ok int) [nPrincipals]int { return [nPrincipals]int{401, 403, 403, 404, 403, ok, ok, 404} }
	viewRow  = [nPrincipals]int{401, 403, 403, 404, 403, 403, 200, 404}
	pubRow   = [nPrincipals]int{401, 403, 201, 404, 403, 403, 403, 404}
)

// authzMatrix is who may call each route, by the route's pattern in
// routes(): the status each principal gets. Adding a route without its row
// fails TestAuthorizationMatrix.
var authzMatrix = map[string][nPrincipals]int{
	"GET /healthz":                     allSame(200),
	"GET /readyz":                      allSame(200),
	"GET /metrics":                     allSame(200),
	"GET /api/v1/openapi.json":         allSame(200),
	"POST /api/v1/login":               allSame(200),
	"POST /api/v1/logout":              {401, 403, 403, 403, 204, 204, 204, 204},
	"GET /api/v1/object-types":         {401, 200, 200, 200, 200, 200, 200, 200},
	"POST /api/v1/accounts":            {401, 201, 403, 403, 403, 403, 403, 403},
	"GET /api/v1/accounts/{account}":   adminRow(200),
	"PATCH /api/v1/accounts/{account}": adminRow(200),

	// The people routes with bodies that grant nothing; the granting rule
	// on each of them is grantMatrix (authz_grant_test.go).
	"GET /api/v1/accounts/{account}/users":         adminRow(200),
	"POST /api/v1/accounts/{account}/users":        adminRow(201),
	"GET /api/v1/accounts/{account}/users/{id}":    adminRow(200),
	"PATCH /api/v1/accounts/{account}/users/{id}":  adminRow(200),
	"DELETE /api/v1/accounts/{account}/users/{id}": adminRow(204),

	"GET /api/v1/accounts/{account}/profiles":         adminRow(200),
	"POST /api/v1/accounts/{account}/profiles":        adminRow(201),
	"GET /api/v1/accounts/{account}/profiles/{id}":    adminRow(200),
	"PATCH /api/v1/accounts/{account}/profiles/{id}":  adminRow(200),
	"DELETE /api/v1/accounts/{account}/profiles/{id}": adminRow(204),

	"GET /api/v1/accounts/{account}/publisher-keys":         adminRow(200),
	"POST /api/v1/accounts/{account}/publisher-keys":        adminRow(201),
	"DELETE /api/v1/accounts/{account}/publisher-keys/{id}": adminRow(204),

	"POST /api/v1/accounts/{account}/records":      pubRow,
	"POST /api/v1/accounts/{account}/changes":      pubRow,
	"GET /api/v1/accounts/{account}/records":       viewRow,
	"GET /api/v1/accounts/{account}/records/count": viewRow,
	"GET /api/v1/accounts/{account}/records/{id}":  viewRow,

	"GET /api/v1/accounts/{account}/records/export.xlsx":   viewRow,
	"GET /api/v1/accounts/{account}/records/export.csv":    viewRow,
	"GET /api/v1/accounts/{account}/records/export.ndjson": viewRow,

	// The access log (SPEC §11): the holders of audit_trail.view.
	"GET /api/v1/accounts/{account}/access-log":            viewRow,
	"GET /api/v1/accounts/{account}/access-log/export.csv": viewRow,

	// The integrity log. The verifier key names no account: any user
	// holding audit_trail.view reads it, whatever their account.
	"GET /api/v1/checkpoint-key":                        {401, 403, 403, 403, 403, 403, 200, 200},
	"GET /api/v1/accounts/{account}/checkpoint":         viewRow,
	"GET /api/v1/accounts/{account}/records/{id}/proof": viewRow,
	"GET /api/v1/accounts/{account}/consistency":        viewRow,

	"POST /api/account/{accountId}/configuration/metadata/audit":       viewRow,
	"GET /api/account/{accountId}/configuration/metadata/audit/export": viewRow,
}

// authzEnv is the server and the accounts the matrix runs against.
type authzEnv struct {
	t     *testing.T
	url   string
	srv   *testServer
	creds [nPrincipals]string
	users [nPrincipals]string // user ids of the user principals
	accts [nPrincipals]string // account of each principal ("" for none and operator)

	hash     string // a password hash, made once, for users made through the store
	recordID string // a record of account A
	profileA string // a custom profile of A that PATCH may change
	userA    string // a user of A that GET may read
	seq      int
}

const authzOperatorToken = "operator-token-authz-0123456789abcdef"

func newAuthzEnv(t *testing.T) *authzEnv {
	t.Helper()
	srv := newTestServer(t, testOptions{OperatorToken: authzOperatorToken})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)

	e := &authzEnv{t: t, url: ts.URL, srv: srv, hash: audittrail.HashPassword("authz-password-1")}
	e.creds[pOperator] = authzOperatorToken

	for _, id := range []string{"acct-a", "acct-b"} {
		e.must(201, "POST", "/api/v1/accounts", authzOperatorToken, map[string]any{
			"id": id, "name": "Account " + id,
			"admin": map[string]any{"login_name": "admin", "name": "Admin " + id, "password": "authz-password-1"},
		})
	}
	adminA := e.login("acct-a", "admin")
	adminB := e.login("acct-b", "admin")
	e.must(200, "PATCH", "/api/v1/accounts/acct-a", adminA, map[string]any{"audit_trail_enabled": true})
	e.creds[pKeyA] = e.must(201, "POST", "/api/v1/accounts/acct-a/publisher-keys", adminA, map[string]any{"name": "platform A"})["key"].(string)
	e.creds[pKeyB] = e.must(201, "POST", "/api/v1/accounts/acct-b/publisher-keys", adminB, map[string]any{"name": "platform B"})["key"].(string)

	profiles := map[string]string{}
	for _, p := range e.must(200, "GET", "/api/v1/accounts/acct-a/profiles", adminA, nil)["profiles"].([]any) {
		p := p.(map[string]any)
		profiles[p["name"].(string)] = p["id"].(string)
	}
	noView := e.must(201, "POST", "/api/v1/accounts/acct-a/profiles", adminA, map[string]any{
		"name": "Administrator without audit trail", "role": "administrator", "permissions": []string{},
	})["id"].(string)
	e.must(201, "POST", "/api/v1/accounts/acct-a/users", adminA, map[string]any{
		"login_name": "agent", "profile_id": profiles["Agent"], "password": "authz-password-1"})
	e.must(201, "POST", "/api/v1/accounts/acct-a/users", adminA, map[string]any{
		"login_name": "admin-no-view", "profile_id": noView, "password": "authz-password-1"})
	e.creds[pAgentA] = e.login("acct-a", "agent")
	e.creds[pAdminNoVwA] = e.login("acct-a", "admin-no-view")
	e.creds[pAdminVwA] = adminA
	e.creds[pAdminB] = adminB

	for p := range nPrincipals {
		if p == pNone || p == pOperator {
			continue
		}
		acct := "acct-a"
		if p == pKeyB || p == pAdminB {
			acct = "acct-b"
		}
		e.accts[p] = acct
		if p == pKeyA || p == pKeyB {
			continue
		}
		pr, err := srv.store.Authenticate(context.Background(), audittrail.HashSecret(e.creds[p]))
		if err != nil || pr.AccountID != acct {
			t.Fatalf("principal %s: %v %+v", principalNames[p], err, pr)
		}
		e.users[p] = pr.User.ID
	}

	recs := e.must(201, "POST", "/api/v1/accounts/acct-a/records", e.creds[pKeyA], map[string]any{"records": []any{authzRecord()}})
	e.recordID = recs["records"].([]any)[0].(map[string]any)["id"].(string)
	e.profileA = e.must(201, "POST", "/api/v1/accounts/acct-a/profiles", adminA, map[string]any{"name": "Supervisors", "role": "agent_manager"})["id"].(string)
	e.userA = e.users[pAgentA]
	return e
}

func authzRecord() map[string]any {
	return map[string]any{"object_type": "skills", "object_id": "s-1", "object_name": "Billing", "action_type": "edit",
		"element": "name", "old_value": "Bill", "new_value": "Billing", "originator": map[string]any{"name": "Olivia"}}
}

func (e *authzEnv) next() int { e.seq++; return e.seq }

func (e *authzEnv) login(account, login string) string {
	e.t.Helper()
	return e.must(200, "POST", "/api/v1/login", "", map[string]any{"account_id": account, "login_name": login, "password": "authz-password-1"})["token"].(string)
}

// do sends a request and returns its status and body.
func (e *authzEnv) do(method, path, cred string, body any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (e *authzEnv) must(want int, method, path, cred string, body any) map[string]any {
	e.t.Helper()
	status, b := e.do(method, path, cred, body)
	if status != want {
		e.t.Fatalf("%s %s: got %d, want %d: %s", method, path, status, want, b)
	}
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return m
}

// Fresh resources of account A, made through the store (no password hashing).

func (e *authzEnv) freshUser() string {
	e.t.Helper()
	n := e.next()
	u := &audittrail.User{ID: audittrail.NewID("usr_"), AccountID: "acct-a", LoginName: fmt.Sprintf("fresh-%d", n),
		Name: fmt.Sprintf("Fresh %d", n), ProfileID: e.profileA, Enabled: true, PasswordHash: e.hash}
	e.srv.change(e.t, "acct-a", func(tx audittrail.Tx) error { return tx.CreateUser(u) })
	return u.ID
}

func (e *authzEnv) freshProfile() string {
	e.t.Helper()
	p := &audittrail.Profile{ID: audittrail.NewID("prf_"), AccountID: "acct-a", Name: fmt.Sprintf("Fresh profile %d", e.next()), Role: audittrail.RoleAgent}
	e.srv.change(e.t, "acct-a", func(tx audittrail.Tx) error { return tx.CreateProfile(p) })
	return p.ID
}

func (e *authzEnv) freshKey() string {
	e.t.Helper()
	k, secret := audittrail.NewPublisherKey("acct-a", fmt.Sprintf("fresh key %d", e.next()), time.Now())
	e.srv.change(e.t, "acct-a", func(tx audittrail.Tx) error { return tx.CreatePublisherKey(k, audittrail.HashSecret(secret)) })
	return k.ID
}

// freshToken issues a new token to the user principal p, so that logging it
// out leaves the principal's own token working.
func (e *authzEnv) freshToken(p int) string {
	e.t.Helper()
	secret := audittrail.NewSecret("att_")
	now := time.Now()
	e.srv.change(e.t, e.accts[p], func(tx audittrail.Tx) error {
		return tx.CreateToken(&audittrail.Token{Hash: audittrail.HashSecret(secret), AccountID: e.accts[p],
			UserID: e.users[p], CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	})
	return secret
}

// request builds the concrete request of a route for one cell: the path on
// account A with ids of A's resources (fresh ones for a request that
// changes or deletes), a valid body, and the principal's credential.
func (e *authzEnv) request(pattern string, p int) (method, path, cred string, body any) {
	e.t.Helper()
	method, path, _ = strings.Cut(pattern, " ")
	cred = e.creds[p]
	path = strings.ReplaceAll(path, "{account}", "acct-a")
	path = strings.ReplaceAll(path, "{accountId}", "acct-a")
	var id string
	switch {
	case !strings.Contains(path, "{id}"):
	case strings.HasPrefix(path, "/api/v1/accounts/acct-a/users/"):
		id = e.userA
		if method != "GET" {
			id = e.freshUser()
		}
	case strings.HasPrefix(path, "/api/v1/accounts/acct-a/profiles/"):
		id = e.profileA
		if method != "GET" {
			id = e.freshProfile()
		}
	case strings.HasPrefix(path, "/api/v1/accounts/acct-a/publisher-keys/"):
		id = e.freshKey()
	case strings.HasPrefix(path, "/api/v1/accounts/acct-a/records/"):
		id = e.recordID
	default:
		e.t.Fatalf("route %s: the matrix does not know what {id} it takes; teach authzEnv.request", pattern)
	}
	path = strings.ReplaceAll(path, "{id}", id)
	if strings.Contains(path, "{") {
		e.t.Fatalf("route %s: the matrix does not know the path parameter of %s; teach authzEnv.request", pattern, path)
	}

	n := e.next()
	switch pattern {
	case "POST /api/v1/login":
		body = map[string]any{"account_id": "acct-a", "login_name": "agent", "password": "authz-password-1"}
	case "POST /api/v1/logout":
		if e.users[p] != "" {
			cred = e.freshToken(p)
		}
	case "POST /api/v1/accounts":
		body = map[string]any{"id": fmt.Sprintf("made-%d", n), "name": "Made",
			"admin": map[string]any{"login_name": "admin", "password": "authz-password-1"}}
	case "PATCH /api/v1/accounts/{account}":
		body = map[string]any{"name": fmt.Sprintf("Account A %d", n)}
	case "POST /api/v1/accounts/{account}/users":
		body = map[string]any{"login_name": fmt.Sprintf("new-user-%d", n), "profile_id": e.profileA, "password": "authz-password-1"}
	case "PATCH /api/v1/accounts/{account}/users/{id}":
		body = map[string]any{"email": fmt.Sprintf("user%d@example.com", n)}
	case "POST /api/v1/accounts/{account}/profiles":
		body = map[string]any{"name": fmt.Sprintf("New profile %d", n), "role": "campaign_manager"}
	case "PATCH /api/v1/accounts/{account}/profiles/{id}":
		body = map[string]any{"description": fmt.Sprintf("changed %d", n)}
	case "POST /api/v1/accounts/{account}/publisher-keys":
		body = map[string]any{"name": fmt.Sprintf("key %d", n)}
	case "POST /api/v1/accounts/{account}/records":
		body = map[string]any{"records": []any{authzRecord()}}
	case "POST /api/account/{accountId}/configuration/metadata/audit":
		body = map[string]any{"query": "{auditData {changeDate}}"}
	case "GET /api/v1/accounts/{account}/consistency":
		// from and to are required (the proof route's tree_size is not:
		// without it, the proof is for the newest checkpoint's size).
		path += "?from=0&to=1"
	case "POST /api/v1/accounts/{account}/changes":
		body = map[string]any{"changes": []any{map[string]any{"object_type": "skills", "object_id": "s-1", "object_name": "Billing",
			"before": map[string]any{"name": "Bill"}, "after": map[string]any{"name": fmt.Sprintf("Billing %d", n)}, "originator": map[string]any{"name": "Olivia"}}}}
	default:
		if method != "GET" && method != "DELETE" {
			e.t.Fatalf("route %s: the matrix has no request body for it; teach authzEnv.request", pattern)
		}
	}
	return method, path, cred, body
}

// wantCode is the error code that goes with an error status.
var wantCode = map[int]string{401: audittrail.EUNAUTHENTICATED, 403: audittrail.EFORBIDDEN, 404: audittrail.ENOTFOUND}

// TestAuthorizationMatrix walks every route of routes() with every kind of
// principal (SPEC §4–5, issue 3) and checks the status of each cell against
// authzMatrix: 401 without a valid credential, 403 for a known credential
// that may not, 404 for a credential of another account.
func TestAuthorizationMatrix(t *testing.T) {
	var patterns []string
	for _, rt := range (&Server{}).routes() {
		patterns = append(patterns, rt.pattern)
		if _, ok := authzMatrix[rt.pattern]; !ok {
			t.Errorf("route %s has no row in the authorization matrix (authzMatrix in authz_test.go)", rt.pattern)
		}
	}
	for pattern := range authzMatrix {
		if !slices.Contains(patterns, pattern) {
			t.Errorf("the authorization matrix has a row for %s, which routes() does not have", pattern)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	e := newAuthzEnv(t)
	for _, pattern := range patterns {
		row := authzMatrix[pattern]
		for p := range nPrincipals {
			method, path, cred, body := e.request(pattern, p)
			status, b := e.do(method, path, cred, body)
			if status != row[p] {
				t.Errorf("%s as %s (%s %s): got %d, want %d: %s", pattern, principalNames[p], method, path, status, row[p], b)
				continue
			}
			if code, ok := wantCode[status]; ok {
				var eb errorBody
				if err := json.Unmarshal(b, &eb); err != nil || eb.Error.Code != code {
					t.Errorf("%s as %s: got body %s, want error code %s", pattern, principalNames[p], b, code)
				}
			}
		}
	}

	// The principals still work after the walk (logout cells used tokens
	// of their own).
	for p := range nPrincipals {
		if e.users[p] == "" {
			continue
		}
		if status, b := e.do("GET", "/api/v1/object-types", e.creds[p], nil); status != 200 {
			t.Errorf("%s after the walk: got %d, want 200: %s", principalNames[p], status, b)
		}
	}
}
