package liveengage_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAuthorization checks who may call both methods, and the native error
// body of each refusal.
func TestAuthorization(t *testing.T) {
	fx := MustOpenFixture(t, Seed())
	const operator = OperatorToken
	query := []byte(`{"query": "{auditData {changeDate}}"}`)
	for _, tt := range []struct {
		name, account, cred string
		status              int
		code                string
	}{
		{"OK", AccountID, fx.Admin, 200, ""},
		{"ErrNoCredential", AccountID, "", 401, "unauthenticated"},
		{"ErrUnknownToken", AccountID, "att_not-a-real-token", 401, "unauthenticated"},
		{"ErrLongToken", AccountID, strings.Repeat("x", 300), 401, "unauthenticated"},
		{"ErrAgent", AccountID, fx.Agent, 403, "forbidden"},
		{"ErrPublisherKey", AccountID, fx.Key, 403, "forbidden"},
		{"ErrOperator", AccountID, operator, 403, "forbidden"},
		{"ErrOperatorBadAccountID", "LE_33192344", operator, 400, "invalid_parameter"},
		{"ErrOtherAccount", AccountID, fx.OtherAdmin, 404, "not_found"},
		{"ErrUnknownAccount", "le00000000", fx.Admin, 404, "not_found"},
		{"ErrOtherAccountAgent", "other-account", fx.Agent, 404, "not_found"},
		{"ErrBadAccountID", "LE_33192344", fx.Admin, 400, "invalid_parameter"},
		{"ErrShortAccountID", "a", fx.Admin, 400, "invalid_parameter"},
		{"ErrBadAccountIDNoCredential", "LE_33192344", "", 401, "unauthenticated"},
	} {
		for _, method := range []string{"POST", "GET"} {
			t.Run(tt.name+"/"+method, func(t *testing.T) {
				var r *Response
				if method == "POST" {
					r = fx.Do(t, "POST", QueryPath(tt.account), tt.cred, "application/json", query)
				} else {
					r = fx.Do(t, "GET", ExportPath(tt.account), tt.cred, "", nil)
				}
				if r.Status != tt.status {
					t.Fatalf("got status %d, want %d: %s", r.Status, tt.status, r.Body)
				}
				if tt.code == "" {
					return
				}
				var e struct {
					Error struct {
						Code    string `json:"code"`
						Message string `json:"message"`
						Details []any  `json:"details"`
					} `json:"error"`
				}
				if err := json.Unmarshal(r.Body, &e); err != nil {
					t.Fatalf("%v: %s", err, r.Body)
				}
				if e.Error.Code != tt.code || e.Error.Message == "" || e.Error.Details == nil {
					t.Errorf("got %s, want the native error body with code %s", r.Body, tt.code)
				}
				if strings.Contains(string(r.Body), "Jane") {
					t.Errorf("a refusal shows records: %s", r.Body)
				}
			})
		}
	}

	// Authorization comes before the query is read: a query that reads no
	// record, or cannot be read, is refused all the same.
	t.Run("BeforeTheQuery", func(t *testing.T) {
		for _, tt := range []struct {
			cred, body string
			status     int
		}{
			{fx.OtherAdmin, `{"query": "{__typename}"}`, 404},
			{fx.Agent, `{"query": "{__typename}"}`, 403},
			{fx.OtherAdmin, `{"query": "{auditData {nope}}"}`, 404},
			{fx.Agent, `not json`, 403},
			{fx.Admin, `{"query": "{__typename}"}`, 200},
		} {
			if r := fx.Do(t, "POST", QueryPath(AccountID), tt.cred, "application/json", []byte(tt.body)); r.Status != tt.status {
				t.Errorf("%s: got %d, want %d: %s", tt.body, r.Status, tt.status, r.Body)
			}
		}
	})

	t.Run("Routes", func(t *testing.T) {
		for _, tt := range []struct {
			method, path string
			status       int
		}{
			{"GET", QueryPath(AccountID), 405},
			{"POST", ExportPath(AccountID), 405},
			{"GET", "/api/account/" + AccountID + "/configuration/metadata/other", 404},
		} {
			if r := fx.Do(t, tt.method, tt.path, fx.Admin, "", nil); r.Status != tt.status {
				t.Errorf("%s %s: got %d, want %d: %s", tt.method, tt.path, r.Status, tt.status, r.Body)
			}
		}
	})
}
