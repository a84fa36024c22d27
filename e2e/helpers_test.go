package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// MustStartIn starts `audittrail serve` on an existing data directory
// (made by `audittrail account create`, say), and stops it when the test
// ends.
func MustStartIn(tb testing.TB, dir string, args ...string) *Server {
	tb.Helper()
	s := &Server{Data: dir, logs: &syncBuffer{}}
	s.start(tb, args...)
	tb.Cleanup(func() { s.Stop(tb) })
	return s
}

// Record is a record as the API answers it (SPEC §2).
type Record struct {
	ID         string     `json:"id"`
	Seq        int64      `json:"seq"`
	ObjectType string     `json:"object_type"`
	ObjectID   string     `json:"object_id"`
	ObjectName string     `json:"object_name"`
	ActionType string     `json:"action_type"`
	Element    string     `json:"element"`
	OldValue   string     `json:"old_value"`
	NewValue   string     `json:"new_value"`
	Date       string     `json:"date"`
	Originator Originator `json:"originator"`
	Automatic  bool       `json:"automatic"`
	ChangeID   string     `json:"change_id"`
	ReceivedAt string     `json:"received_at"`
	Source     string     `json:"source"`
}

// Originator is who made a change.
type Originator struct {
	ID         string   `json:"id,omitempty"`
	Name       string   `json:"name"`
	LoginName  string   `json:"login_name,omitempty"`
	EmployeeID string   `json:"employee_id,omitempty"`
	Profiles   []string `json:"profiles,omitempty"`
	UserAgent  string   `json:"user_agent,omitempty"`
	AuthType   string   `json:"auth_type,omitempty"`
	IsLPA      bool     `json:"is_lpa,omitempty"`
}

// Time parses the record's date.
func (r Record) Time(tb testing.TB) time.Time {
	tb.Helper()
	return mustTime(tb, r.Date)
}

func mustTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		tb.Fatalf("time %q: %v", s, err)
	}
	return t
}

// ts formats t as the API does: RFC 3339 UTC with milliseconds.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// rec returns a valid record item of POST .../records, with kv (pairs of
// field name and value) set over the defaults; a nil value removes the field.
func rec(kv ...any) map[string]any {
	m := map[string]any{
		"object_type": "users",
		"object_id":   "u-1",
		"object_name": "Jane Doe",
		"action_type": "edit",
		"element":     "name",
		"old_value":   "Jane",
		"new_value":   "Jane Doe",
		"originator":  map[string]any{"id": "o-1", "name": "Olivia Admin"},
	}
	return set(m, kv...)
}

// chg returns a valid change item of POST .../changes (an edit of a user's
// name), with kv set over the defaults as for rec.
func chg(kv ...any) map[string]any {
	m := map[string]any{
		"object_type": "users",
		"object_id":   "u-1",
		"object_name": "Jane Doe",
		"before":      map[string]any{"name": "Jane"},
		"after":       map[string]any{"name": "Jane Doe"},
		"originator":  map[string]any{"id": "o-1", "name": "Olivia Admin"},
	}
	return set(m, kv...)
}

func set(m map[string]any, kv ...any) map[string]any {
	if len(kv)%2 != 0 {
		panic("set: odd number of arguments")
	}
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(m, k)
		} else {
			m[k] = kv[i+1]
		}
	}
	return m
}

// records wraps items as the body of POST .../records.
func records(items ...map[string]any) map[string]any { return map[string]any{"records": items} }

// changes wraps items as the body of POST .../changes.
func changes(items ...map[string]any) map[string]any { return map[string]any{"changes": items} }

func (a *Account) path(rest string) string { return "/api/v1/accounts/" + a.ID + rest }

// PostRecords posts items with the account's publisher key.
func (s *Server) PostRecords(tb testing.TB, a *Account, items ...map[string]any) *Response {
	tb.Helper()
	return s.Do(tb, "POST", a.path("/records"), a.Key, records(items...))
}

// PostChanges posts items with the account's publisher key.
func (s *Server) PostChanges(tb testing.TB, a *Account, items ...map[string]any) *Response {
	tb.Helper()
	return s.Do(tb, "POST", a.path("/changes"), a.Key, changes(items...))
}

// MustRecords posts record items and returns the stored records.
func (s *Server) MustRecords(tb testing.TB, a *Account, items ...map[string]any) []Record {
	tb.Helper()
	r := s.PostRecords(tb, a, items...)
	if r.Status != 201 {
		tb.Fatalf("POST records: got status %d, want 201: %s", r.Status, r.Body)
	}
	return decodeRecords(tb, r)
}

// MustChanges posts change items and returns the stored records.
func (s *Server) MustChanges(tb testing.TB, a *Account, items ...map[string]any) []Record {
	tb.Helper()
	r := s.PostChanges(tb, a, items...)
	if r.Status != 201 {
		tb.Fatalf("POST changes: got status %d, want 201: %s", r.Status, r.Body)
	}
	return decodeRecords(tb, r)
}

func decodeRecords(tb testing.TB, r *Response) []Record {
	tb.Helper()
	var v struct {
		Records *[]Record `json:"records"`
	}
	if err := json.Unmarshal(r.Body, &v); err != nil {
		tb.Fatalf("records body: %v: %s", err, r.Body)
	}
	if v.Records == nil {
		tb.Fatalf("got no records list in %s, want one", r.Body)
	}
	return *v.Records
}

// Page is one answer of GET .../records.
type Page struct {
	Records    []Record `json:"records"`
	NextCursor *string  `json:"next_cursor"`
}

// List reads one page of the account's records with the admin token.
func (s *Server) List(tb testing.TB, a *Account, q url.Values) Page {
	tb.Helper()
	r := s.Must(tb, 200, "GET", a.path("/records")+query(q), a.AdminToken, nil)
	var p Page
	if err := json.Unmarshal(r.Body, &p); err != nil {
		tb.Fatalf("page: %v: %s", err, r.Body)
	}
	var raw map[string]json.RawMessage
	json.Unmarshal(r.Body, &raw)
	if _, ok := raw["next_cursor"]; !ok {
		tb.Fatalf("page has no next_cursor: %s", r.Body)
	}
	return p
}

// ListAll reads every page of the account's records matching q.
func (s *Server) ListAll(tb testing.TB, a *Account, q url.Values) []Record {
	tb.Helper()
	q = clone(q)
	var all []Record
	for range 10000 {
		p := s.List(tb, a, q)
		all = append(all, p.Records...)
		if p.NextCursor == nil {
			return all
		}
		q.Set("cursor", *p.NextCursor)
	}
	tb.Fatal("paging did not end")
	return nil
}

// Count counts the account's records matching q.
func (s *Server) Count(tb testing.TB, a *Account, q url.Values) int {
	tb.Helper()
	r := s.Must(tb, 200, "GET", a.path("/records/count")+query(q), a.AdminToken, nil)
	var v struct {
		Count *int `json:"count"`
	}
	if err := json.Unmarshal(r.Body, &v); err != nil || v.Count == nil {
		tb.Fatalf("count: got %s, want {\"count\": N}", r.Body)
	}
	return *v.Count
}

func query(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

func clone(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// vals builds query values from pairs.
func vals(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q
}

// APIError is the contract's error body.
type APIError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Index   *int   `json:"index"`
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"details"`
}

// MustError checks that r is an error with the status and code, in the
// contract's body {"error": {"code", "message", "details": [...]}}, and
// returns the error.
func MustError(tb testing.TB, r *Response, status int, code string) APIError {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("status: got %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("Content-Type: got %q, want application/json", ct)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &raw); err != nil {
		tb.Fatalf("body: got %v, want a JSON object: %s", err, r.Body)
	}
	if len(raw) != 1 || raw["error"] == nil {
		tb.Fatalf("body: got %s, want exactly one member, error", r.Body)
	}
	var inner map[string]json.RawMessage
	if err := json.Unmarshal(raw["error"], &inner); err != nil {
		tb.Fatalf("error: got %v, want an object: %s", err, r.Body)
	}
	for _, k := range []string{"code", "message", "details"} {
		if _, ok := inner[k]; !ok {
			tb.Fatalf("error.%s: got none, want one: %s", k, r.Body)
		}
	}
	if d := strings.TrimSpace(string(inner["details"])); !strings.HasPrefix(d, "[") {
		tb.Fatalf("error.details: got %s, want a list", d)
	}
	var e struct {
		Error APIError `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &e); err != nil {
		tb.Fatalf("error: %v: %s", err, r.Body)
	}
	if e.Error.Code != code {
		tb.Fatalf("error.code: got %v, want %v: %s", e.Error.Code, code, r.Body)
	}
	if strings.TrimSpace(e.Error.Message) == "" {
		tb.Fatalf("error.message: got empty, want a sentence: %s", r.Body)
	}
	for i, d := range e.Error.Details {
		if d.Index == nil || d.Field == "" || d.Message == "" {
			tb.Fatalf("error.details[%d]: got %+v, want index, field and message", i, d)
		}
	}
	return e.Error
}

// Detail is one expected entry of error.details.
type Detail struct {
	Index int
	Field string
}

// MustDetails checks that e lists exactly the problems want, in any order.
func MustDetails(tb testing.TB, e APIError, want ...Detail) {
	tb.Helper()
	got := map[Detail]int{}
	for _, d := range e.Details {
		got[Detail{*d.Index, d.Field}]++
	}
	w := map[Detail]int{}
	for _, d := range want {
		w[d]++
	}
	if fmt.Sprint(got) != fmt.Sprint(w) {
		tb.Fatalf("details: got %v, want %v (%+v)", got, w, e.Details)
	}
}

// ids returns the ids of rs, in order.
func ids(rs []Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// seqs returns the seqs of rs, in order.
func seqs(rs []Record) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.Seq
	}
	return out
}

// enabledAt reads the moment the account's audit trail was last enabled.
func (s *Server) enabledAt(tb testing.TB, a *Account) time.Time {
	tb.Helper()
	v := s.Must(tb, 200, "GET", a.path(""), a.AdminToken, nil).JSON(tb)
	at, _ := v["audit_trail_enabled_at"].(string)
	if at == "" {
		tb.Fatalf("audit_trail_enabled_at: got %v, want a time", v["audit_trail_enabled_at"])
	}
	return mustTime(tb, at)
}
