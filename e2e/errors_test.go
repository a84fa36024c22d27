package e2e

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestAuth drives the credential checks of SPEC §5: missing or unknown
// credentials are 401, known but not allowed are 403.
func TestAuth(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "auth", true)

	t.Run("ErrUnauthenticatedNoHeader", func(t *testing.T) {
		for _, rt := range [][2]string{
			{"GET", a.path("/records")},
			{"GET", a.path("")},
			{"POST", a.path("/records")},
			{"GET", "/api/v1/object-types"},
			{"POST", "/api/v1/accounts"},
		} {
			var body any
			if rt[0] == "POST" {
				body = records(rec())
			}
			MustError(t, srv.Do(t, rt[0], rt[1], "", body), 401, "unauthenticated")
		}
	})

	t.Run("ErrUnauthenticatedUnknownToken", func(t *testing.T) {
		for _, cred := range []string{"att_unknown", "atk_unknown", "nonsense", strings.Repeat("x", 300), OperatorToken + "x"} {
			MustError(t, srv.Do(t, "GET", a.path("/records"), cred, nil), 401, "unauthenticated")
			MustError(t, srv.Do(t, "POST", a.path("/records"), cred, records(rec())), 401, "unauthenticated")
		}
	})

	t.Run("ErrUnauthenticatedBadPassword", func(t *testing.T) {
		r := srv.Do(t, "POST", "/api/v1/login", "", map[string]string{"account_id": a.ID, "login_name": "admin", "password": "wrong password!"})
		MustError(t, r, 401, "unauthenticated")
		r = srv.Do(t, "POST", "/api/v1/login", "", map[string]string{"account_id": "no-such-account", "login_name": "admin", "password": "correct horse battery"})
		MustError(t, r, 401, "unauthenticated")
	})

	t.Run("ErrUnauthenticatedRevokedKey", func(t *testing.T) {
		k := srv.Must(t, 201, "POST", a.path("/publisher-keys"), a.AdminToken, map[string]string{"name": "short-lived"}).JSON(t)
		key, id := k["key"].(string), k["id"].(string)
		srv.Must(t, 201, "POST", a.path("/records"), key, records(rec()))
		srv.Must(t, 204, "DELETE", a.path("/publisher-keys/"+id), a.AdminToken, nil)
		MustError(t, srv.Do(t, "POST", a.path("/records"), key, records(rec())), 401, "unauthenticated")
	})

	t.Run("ErrForbiddenPublisherReads", func(t *testing.T) {
		for _, p := range []string{"/records", "/records/count", "/records/rec_x"} {
			MustError(t, srv.Do(t, "GET", a.path(p), a.Key, nil), 403, "forbidden")
		}
		MustError(t, srv.Do(t, "GET", a.path(""), a.Key, nil), 403, "forbidden")
		MustError(t, srv.Do(t, "POST", a.path("/publisher-keys"), a.Key, map[string]string{"name": "x"}), 403, "forbidden")
	})

	t.Run("ErrForbiddenUserWrites", func(t *testing.T) {
		MustError(t, srv.Do(t, "POST", a.path("/records"), a.AdminToken, records(rec())), 403, "forbidden")
		MustError(t, srv.Do(t, "POST", a.path("/changes"), a.AdminToken, changes(chg())), 403, "forbidden")
	})

	t.Run("ErrForbiddenUserCreatesAccount", func(t *testing.T) {
		body := map[string]any{"id": "other", "name": "Other", "admin": map[string]any{"login_name": "x", "password": "long enough pw"}}
		MustError(t, srv.Do(t, "POST", "/api/v1/accounts", a.AdminToken, body), 403, "forbidden")
		MustError(t, srv.Do(t, "POST", "/api/v1/accounts", a.Key, body), 403, "forbidden")
	})

	t.Run("ErrForbiddenOperatorOnAccountRoute", func(t *testing.T) {
		MustError(t, srv.Do(t, "GET", a.path(""), OperatorToken, nil), 403, "forbidden")
		MustError(t, srv.Do(t, "PATCH", a.path(""), OperatorToken, map[string]any{"name": "x"}), 403, "forbidden")
		MustError(t, srv.Do(t, "GET", a.path("/records"), OperatorToken, nil), 403, "forbidden")
		MustError(t, srv.Do(t, "POST", a.path("/records"), OperatorToken, records(rec())), 403, "forbidden")
		MustError(t, srv.Do(t, "GET", a.path("/publisher-keys"), OperatorToken, nil), 403, "forbidden")
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		MustError(t, srv.Do(t, "GET", a.path("/records/rec_doesnotexist"), a.AdminToken, nil), 404, "not_found")
		MustError(t, srv.Do(t, "DELETE", a.path("/publisher-keys/key_doesnotexist"), a.AdminToken, nil), 404, "not_found")
		MustError(t, srv.Do(t, "GET", "/api/v1/no-such-route", a.AdminToken, nil), 404, "not_found")
		MustError(t, srv.Do(t, "GET", "/no/such/page.json", "", nil), 404, "not_found")
	})

	t.Run("ErrMethodNotAllowed", func(t *testing.T) {
		r := srv.Do(t, "PUT", a.path("/records"), a.Key, records(rec()))
		MustError(t, r, 405, "method_not_allowed")
		if allow := r.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
			t.Errorf("Allow: got %q, want GET and POST", allow)
		}
		MustError(t, srv.Do(t, "DELETE", a.path(""), a.AdminToken, nil), 405, "method_not_allowed")
		MustError(t, srv.Do(t, "POST", "/healthz", "", nil), 405, "method_not_allowed")
	})
}

// TestAccountErrors covers the errors of the operator's account creation.
func TestAccountErrors(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	body := func(id string) map[string]any {
		return map[string]any{"id": id, "name": "Acme", "admin": map[string]any{"login_name": "boss", "password": "correct horse battery"}}
	}

	t.Run("OK", func(t *testing.T) {
		v := srv.Must(t, 201, "POST", "/api/v1/accounts", OperatorToken, body("acme")).JSON(t)
		if v["id"] != "acme" {
			t.Errorf("id: got %v, want %v", v["id"], "acme")
		}
		if v["timezone"] != "UTC" {
			t.Errorf("timezone: got %v, want %v", v["timezone"], "UTC")
		}
		if v["audit_trail_enabled"] != false {
			t.Errorf("audit_trail_enabled: got %v, want %v", v["audit_trail_enabled"], false)
		}
		if strings.Contains(fmt.Sprint(v), "correct horse battery") {
			t.Errorf("the answer holds the password: %v", v)
		}
	})

	t.Run("ErrAlreadyExists", func(t *testing.T) {
		srv.Must(t, 201, "POST", "/api/v1/accounts", OperatorToken, body("taken"))
		MustError(t, srv.Do(t, "POST", "/api/v1/accounts", OperatorToken, body("taken")), 409, "already_exists")
	})

	t.Run("ErrValidationFailed", func(t *testing.T) {
		for _, id := range []string{"", "A", "x", "-leading", "has space", strings.Repeat("a", 64)} {
			MustError(t, srv.Do(t, "POST", "/api/v1/accounts", OperatorToken, body(id)), 422, "validation_failed")
		}
		b := body("tz-bad")
		b["timezone"] = "Mars/Olympus"
		MustError(t, srv.Do(t, "POST", "/api/v1/accounts", OperatorToken, b), 422, "validation_failed")
	})

	t.Run("ErrInvalidJSON", func(t *testing.T) {
		MustError(t, srv.Do(t, "POST", "/api/v1/accounts", OperatorToken, `{"id": "x",`), 400, "invalid_json")
		e := MustError(t, srv.Do(t, "POST", "/api/v1/accounts", OperatorToken, `{"id": "x", "plan": "gold"}`), 400, "invalid_json")
		if !strings.Contains(e.Message, "plan") {
			t.Errorf("message: got %q, want it to name the field plan", e.Message)
		}
	})
}

// TestIngestErrors covers every refusal of POST .../records and
// .../changes (SPEC §6), each through the real API.
func TestIngestErrors(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "ingest-errors", true)
	post := func(t *testing.T, items ...map[string]any) *Response {
		t.Helper()
		return srv.PostRecords(t, a, items...)
	}

	t.Run("ErrInvalidJSONMalformed", func(t *testing.T) {
		for _, body := range []string{`{"records": [`, `{"records": [}`, `{"records": [{"object_type": "users",}]}`, `not json`, ``, `{"records": []} {}`} {
			MustError(t, srv.Do(t, "POST", a.path("/records"), a.Key, body), 400, "invalid_json")
			MustError(t, srv.Do(t, "POST", a.path("/changes"), a.Key, strings.ReplaceAll(body, "records", "changes")), 400, "invalid_json")
		}
		e := MustError(t, srv.Do(t, "POST", a.path("/records"), a.Key, `{"records": [{"object_type": }]}`), 400, "invalid_json")
		if !strings.Contains(e.Message, "byte") {
			t.Errorf("message: got %q, want it to give the position", e.Message)
		}
	})

	t.Run("ErrInvalidJSONUnknownField", func(t *testing.T) {
		e := MustError(t, post(t, rec("colour", "blue")), 400, "invalid_json")
		if !strings.Contains(e.Message, "colour") {
			t.Errorf("message: got %q, want it to name the field colour", e.Message)
		}
		e = MustError(t, srv.Do(t, "POST", a.path("/records"), a.Key, map[string]any{"records": []any{rec()}, "dry_run": true}), 400, "invalid_json")
		if !strings.Contains(e.Message, "dry_run") {
			t.Errorf("message: got %q, want it to name the field dry_run", e.Message)
		}
		e = MustError(t, srv.PostChanges(t, a, chg("diff", "x")), 400, "invalid_json")
		if !strings.Contains(e.Message, "diff") {
			t.Errorf("message: got %q, want it to name the field diff", e.Message)
		}
		e = MustError(t, post(t, rec("originator", map[string]any{"name": "x", "mood": "happy"})), 400, "invalid_json")
		if !strings.Contains(e.Message, "mood") {
			t.Errorf("message: got %q, want it to name the field mood", e.Message)
		}
	})

	t.Run("ErrBodyTooLarge", func(t *testing.T) {
		n := srv.Count(t, a, nil)
		big := strings.Repeat("x", 6<<20)
		MustError(t, post(t, rec("new_value", big)), 413, "body_too_large")
		MustError(t, srv.PostChanges(t, a, chg("after", map[string]any{"name": big})), 413, "body_too_large")
		// Many records, each within its limits, over 5 MiB in all.
		items := make([]map[string]any, 100)
		for i := range items {
			items[i] = rec("new_value", strings.Repeat("y", 60<<10))
		}
		MustError(t, post(t, items...), 413, "body_too_large")
		if got := srv.Count(t, a, nil); got != n {
			t.Errorf("count: got %v, want %v", got, n)
		}
	})

	t.Run("ErrValueTooLong", func(t *testing.T) {
		n := srv.Count(t, a, nil)
		long := strings.Repeat("v", 64<<10+1)
		name := strings.Repeat("n", 513)
		cases := []struct {
			item  map[string]any
			field string
		}{
			{rec("old_value", long), "old_value"},
			{rec("new_value", long), "new_value"},
			{rec("object_name", name), "object_name"},
			{rec("element", name), "element"},
			{rec("originator", map[string]any{"id": "o-1", "name": name}), "originator.name"},
			{rec("id", strings.Repeat("i", 129)), "id"},
		}
		for _, c := range cases {
			e := MustError(t, post(t, rec(), c.item), 422, "value_too_long")
			MustDetails(t, e, Detail{1, c.field})
		}
		e := MustError(t, srv.PostChanges(t, a, chg("after", map[string]any{"name": long})), 422, "value_too_long")
		if len(e.Details) != 1 || *e.Details[0].Index != 0 {
			t.Errorf("details: got %+v, want one for item 0", e.Details)
		}
		MustError(t, srv.PostChanges(t, a, chg("object_name", name)), 422, "value_too_long")
		if got := srv.Count(t, a, nil); got != n {
			t.Errorf("count: got %v, want %v", got, n)
		}
	})

	t.Run("OKValueAtLimit", func(t *testing.T) {
		v := strings.Repeat("v", 64<<10)
		name := strings.Repeat("é", 512) // 512 characters, 1024 bytes
		rs := srv.MustRecords(t, a, rec("old_value", v, "new_value", v, "object_name", name, "element", name,
			"originator", map[string]any{"name": name}))
		if got := rs[0].NewValue; got != v {
			t.Errorf("new_value: got %d bytes, want %d", len(got), len(v))
		}
		if got := rs[0].ObjectName; got != name {
			t.Errorf("object_name: got %q, want %q", got, name)
		}
	})

	t.Run("ErrValidationFailed", func(t *testing.T) {
		n := srv.Count(t, a, nil)
		e := MustError(t, post(t,
			rec(),
			rec("object_type", nil, "element", nil),
			rec("originator", nil),
			rec("object_name", "", "action_type", "rename"),
			rec("originator", map[string]any{"id": "o-1"}),
			rec("date", "yesterday"),
			rec("action_type", "add", "old_value", "was"),
			rec("action_type", "delete", "new_value", "now"),
		), 422, "validation_failed")
		MustDetails(t, e,
			Detail{1, "object_type"}, Detail{1, "element"},
			Detail{2, "originator"},
			Detail{3, "object_name"}, Detail{3, "action_type"},
			Detail{4, "originator.name"},
			Detail{5, "date"},
			Detail{6, "old_value"},
			Detail{7, "new_value"},
		)
		for _, d := range e.Details {
			if !strings.Contains(d.Message, strings.Split(d.Field, ".")[0]) && !strings.Contains(d.Message, "RFC 3339") {
				t.Errorf("details[%d].message: got %q, want it to name %s", *d.Index, d.Message, d.Field)
			}
		}
		MustError(t, post(t), 422, "validation_failed")
		MustError(t, srv.Do(t, "POST", a.path("/records"), a.Key, `{}`), 422, "validation_failed")

		e = MustError(t, srv.PostChanges(t, a,
			chg(),
			chg("before", nil, "after", nil),
			chg("after", "a string"),
			chg("object_name", nil, "originator", nil),
		), 422, "validation_failed")
		MustDetails(t, e, Detail{1, "after"}, Detail{2, "after"}, Detail{3, "object_name"}, Detail{3, "originator"})
		MustError(t, srv.PostChanges(t, a), 422, "validation_failed")
		if got := srv.Count(t, a, nil); got != n {
			t.Errorf("count: got %v, want %v", got, n)
		}
	})

	t.Run("ErrValidationFailedMixed", func(t *testing.T) {
		// Problems of different codes in one batch: validation_failed, with
		// one detail for each.
		e := MustError(t, post(t, rec("object_name", strings.Repeat("n", 513)), rec("element", "")), 422, "validation_failed")
		MustDetails(t, e, Detail{0, "object_name"}, Detail{1, "element"})
	})

	t.Run("ErrBatchTooLarge", func(t *testing.T) {
		n := srv.Count(t, a, nil)
		items := make([]map[string]any, 1001)
		for i := range items {
			items[i] = rec("object_id", fmt.Sprint(i))
		}
		MustError(t, post(t, items...), 422, "batch_too_large")
		ch := make([]map[string]any, 1001)
		for i := range ch {
			ch[i] = chg("object_id", fmt.Sprint(i))
		}
		MustError(t, srv.PostChanges(t, a, ch...), 422, "batch_too_large")
		if got := srv.Count(t, a, nil); got != n {
			t.Errorf("count: got %v, want %v", got, n)
		}
		if got := len(srv.MustRecords(t, a, items[:1000]...)); got != 1000 {
			t.Errorf("records of a batch of 1000: got %v, want %v", got, 1000)
		}
	})

	t.Run("ErrDateInFuture", func(t *testing.T) {
		n := srv.Count(t, a, nil)
		e := MustError(t, post(t, rec(), rec("date", ts(time.Now().Add(6*time.Minute)))), 422, "date_in_future")
		MustDetails(t, e, Detail{1, "date"})
		MustError(t, srv.PostChanges(t, a, chg("date", ts(time.Now().Add(time.Hour)))), 422, "date_in_future")
		if got := srv.Count(t, a, nil); got != n {
			t.Errorf("count: got %v, want %v", got, n)
		}
	})

	t.Run("OKDateSoonInFuture", func(t *testing.T) {
		d := time.Now().Add(4 * time.Minute).UTC().Truncate(time.Millisecond)
		rs := srv.MustRecords(t, a, rec("date", d.Format(time.RFC3339Nano)))
		if got := rs[0].Date; got != ts(d) {
			t.Errorf("date: got %v, want %v", got, ts(d))
		}
		srv.MustChanges(t, a, chg("date", d.Format(time.RFC3339Nano)))
	})

	t.Run("ErrBeforeEnabled", func(t *testing.T) {
		n := srv.Count(t, a, nil)
		old := ts(srv.enabledAt(t, a).Add(-time.Millisecond))
		e := MustError(t, post(t, rec(), rec("date", old)), 422, "before_enabled")
		MustDetails(t, e, Detail{1, "date"})
		MustError(t, srv.PostChanges(t, a, chg("date", "2020-01-01T00:00:00Z")), 422, "before_enabled")
		if got := srv.Count(t, a, nil); got != n {
			t.Errorf("count: got %v, want %v", got, n)
		}
	})

	t.Run("ErrUnknownObjectType", func(t *testing.T) {
		for _, typ := range []string{"widgets", "user"} {
			e := MustError(t, post(t, rec(), rec("object_type", typ)), 422, "unknown_object_type")
			MustDetails(t, e, Detail{1, "object_type"})
			MustError(t, srv.PostChanges(t, a, chg("object_type", typ)), 422, "unknown_object_type")
		}
	})

	t.Run("ErrUnknownObjectTypeLogin", func(t *testing.T) {
		for _, typ := range []string{"login", "logins", "sessions"} {
			for _, r := range []*Response{post(t, rec("object_type", typ)), srv.PostChanges(t, a, chg("object_type", typ))} {
				e := MustError(t, r, 422, "unknown_object_type")
				for _, msg := range []string{e.Message, e.Details[0].Message} {
					if m := strings.ToLower(msg); !strings.Contains(m, "login") || !strings.Contains(m, "not audited") {
						t.Errorf("message: got %q, want it to say that logins are not audited", msg)
					}
				}
			}
		}
	})

	t.Run("ErrAuditTrailDisabled", func(t *testing.T) {
		d := srv.MustAccount(t, "ingest-disabled", false)
		MustError(t, srv.PostRecords(t, d, rec()), 409, "audit_trail_disabled")
		MustError(t, srv.PostChanges(t, d, chg()), 409, "audit_trail_disabled")
		if got := srv.Count(t, d, nil); got != 0 {
			t.Errorf("count: got %v, want %v", got, 0)
		}
	})

	t.Run("ErrInvalidParameter", func(t *testing.T) {
		for _, q := range []url.Values{
			vals("limit", "0"), vals("limit", "1001"), vals("limit", "ten"), vals("limit", "-1"),
			vals("cursor", "garbage"), vals("cursor", "djEuMTIz"), vals("from", "yesterday"), vals("to", "2026-13-01"),
			vals("action_type", "rename"),
		} {
			MustError(t, srv.Do(t, "GET", a.path("/records")+query(q), a.AdminToken, nil), 400, "invalid_parameter")
		}
		for _, q := range []url.Values{vals("from", "yesterday"), vals("action_type", "rename")} {
			MustError(t, srv.Do(t, "GET", a.path("/records/count")+query(q), a.AdminToken, nil), 400, "invalid_parameter")
		}
	})
}

// TestAllOrNothing checks that a batch with one bad record stores nothing,
// and that seq continues without a gap afterwards.
func TestAllOrNothing(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "all-or-nothing", true)
	first := srv.MustRecords(t, a, rec(), rec())
	base := first[len(first)-1].Seq + 1
	n := srv.Count(t, a, nil)

	long := strings.Repeat("x", 64<<10+1)
	badRecords := []map[string]any{
		rec("object_type", "widgets"),
		rec("element", ""),
		rec("date", ts(time.Now().Add(time.Hour))),
		rec("date", "2000-01-01T00:00:00Z"),
		rec("new_value", long),
	}
	for i, b := range badRecords {
		items := []map[string]any{rec("object_id", "ok-1"), rec("object_id", "ok-2"), b, rec("object_id", "ok-3")}
		if r := srv.PostRecords(t, a, items...); r.Status < 400 {
			t.Fatalf("bad records batch %d: got status %d, want an error", i, r.Status)
		}
	}
	badChanges := []map[string]any{
		chg("object_type", "widgets"),
		chg("after", map[string]any{"": "x"}),
		chg("date", ts(time.Now().Add(time.Hour))),
		chg("date", "2000-01-01T00:00:00Z"),
		chg("after", map[string]any{"name": long}),
	}
	for i, b := range badChanges {
		items := []map[string]any{chg("object_id", "ok-1"), chg("object_id", "ok-2"), b, chg("object_id", "ok-3")}
		if r := srv.PostChanges(t, a, items...); r.Status < 400 {
			t.Fatalf("bad changes batch %d: got status %d, want an error", i, r.Status)
		}
	}
	if got := srv.Count(t, a, nil); got != n {
		t.Errorf("count: got %v, want %v", got, n)
	}
	for _, id := range []string{"ok-1", "ok-2", "ok-3"} {
		if got := srv.Count(t, a, vals("object_id", id)); got != 0 {
			t.Errorf("count of %s: got %v, want %v", id, got, 0)
		}
	}
	rs := srv.MustRecords(t, a, rec(), rec())
	rs = append(rs, srv.MustChanges(t, a, chg())...)
	for i, r := range rs {
		if want := base + int64(i); r.Seq != want {
			t.Errorf("seq of record %d: got %v, want %v", i, r.Seq, want)
		}
	}
}
