package liveengage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	ahttp "github.com/audittrail/audittrail/http"
	"github.com/audittrail/audittrail/internal/testkit"
	"github.com/audittrail/audittrail/service"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/")

var ctx = context.Background()

// Now is the fixed clock of the service in every test: the retention
// window (13 months) starts on 2025-05-30T12:00:00Z.
var Now = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

// AccountID is the account of the tests, the id of LiveEngage's examples.
const AccountID = "le33192344"

// OperatorToken is the operator token of the test service.
const OperatorToken = "operator-token-for-liveengage-tests"

// newTestService returns a service over a new, empty store in a temporary
// directory, on the fixed clock Now, closed when the test ends. It is the
// one place the tests build a store: the tests that read records need one,
// the tests of parsing and mapping (params_fuzz_test.go, fuzz_test.go)
// build none.
func newTestService(tb testing.TB) *service.Service {
	tb.Helper()
	now := func() time.Time { return Now }
	cfg := service.DefaultConfig()
	cfg.OperatorToken = OperatorToken
	return testkit.NewService(tb, testkit.OpenStore(tb, now), cfg, now, nil)
}

// Fixture is the API over a store holding an account with its audit
// trail enabled since 2025-01-01, and credentials of every kind.
type Fixture struct {
	Service *service.Service
	Server  *httptest.Server

	Admin      string // token of the administrator (holds audit_trail.view)
	Agent      string // token of an agent (does not)
	Key        string // a publisher key of the account
	OtherAdmin string // token of the administrator of another account

	// Seeded are the records stored, in the order appended (seq order).
	Seeded []*audittrail.Record
}

// MustOpenFixture opens the service (newTestService), creates the
// accounts and credentials through its store, appends recs and starts the
// HTTP API over it, without rate limits; all is closed when the test ends.
func MustOpenFixture(tb testing.TB, recs []*audittrail.Record) *Fixture {
	tb.Helper()
	svc := newTestService(tb)
	st := svc.Store()
	fx := &Fixture{Service: svc}

	var profiles []*audittrail.Profile
	fx.Admin, profiles = mustAccount(tb, st, AccountID)
	agent := &audittrail.User{AccountID: AccountID, LoginName: "agent", Name: "Andy Agent", Email: "andy@example.com",
		ProfileID: profiles[3].ID, Enabled: true, PasswordHash: "$argon2id$fake"}
	k, secret := audittrail.NewPublisherKey(AccountID, "platform", time.Now())
	enabledAt := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	mustChange(tb, st, AccountID, func(tx audittrail.Tx) error {
		if err := tx.CreateUser(agent); err != nil {
			return err
		}
		if err := tx.CreatePublisherKey(k, audittrail.HashSecret(secret)); err != nil {
			return err
		}
		acct, err := tx.FindAccount(AccountID)
		if err != nil {
			return err
		}
		acct.AuditTrailEnabled, acct.AuditTrailEnabledAt = true, &enabledAt
		return tx.UpdateAccount(acct)
	})
	fx.Agent = mustToken(tb, st, agent)
	fx.Key = secret
	fx.OtherAdmin, _ = mustAccount(tb, st, "other-account")

	for batch := range slices.Chunk(recs, 250) {
		entries := make([]audittrail.Entry, len(batch))
		for i, r := range batch {
			entries[i] = audittrail.Entry{Records: []*audittrail.Record{r}}
		}
		stored, err := st.AppendRecords(ctx, AccountID, entries)
		if err != nil {
			tb.Fatal(err)
		}
		fx.Seeded = append(fx.Seeded, stored...)
	}

	fx.Server = httptest.NewServer(ahttp.NewServer(svc, ahttp.Config{}, slog.New(slog.DiscardHandler)))
	tb.Cleanup(fx.Server.Close)
	return fx
}

// mustAccount creates an account with the built-in profiles and returns a
// token of its administrator.
func mustAccount(tb testing.TB, st audittrail.Store, id string) (string, []*audittrail.Profile) {
	tb.Helper()
	acct, admin := audittrail.NewAccount(id, "Account "+id, "Europe/Paris", time.Now())
	profiles := audittrail.BuiltinProfiles(id, time.Now())
	admin.LoginName, admin.Name, admin.Email, admin.ProfileID, admin.PasswordHash = "admin", "Ada Admin", "ada@example.com", profiles[0].ID, "$argon2id$fake"
	if err := st.CreateAccount(ctx, acct, profiles, admin); err != nil {
		tb.Fatal(err)
	}
	return mustToken(tb, st, admin), profiles
}

func mustToken(tb testing.TB, st audittrail.Store, u *audittrail.User) string {
	tb.Helper()
	secret := audittrail.NewSecret("att_")
	mustChange(tb, st, u.AccountID, func(tx audittrail.Tx) error {
		return tx.CreateToken(&audittrail.Token{Hash: audittrail.HashSecret(secret), AccountID: u.AccountID, UserID: u.ID,
			ExpiresAt: time.Now().Add(time.Hour)})
	})
	return secret
}

// mustChange runs fn in a change of the account that writes no trail.
func mustChange(tb testing.TB, st audittrail.Store, accountID string, fn func(audittrail.Tx) error) {
	tb.Helper()
	if err := st.Change(ctx, accountID, func(tx audittrail.Tx) ([]audittrail.Entry, error) { return nil, fn(tx) }); err != nil {
		tb.Fatal(err)
	}
}

// Response is an answer of the server.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends a request with the bearer credential (none when empty).
func (fx *Fixture) Do(tb testing.TB, method, path, cred, contentType string, body []byte) *Response {
	tb.Helper()
	req, err := http.NewRequest(method, fx.Server.URL+path, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Query posts {"query": query} (and variables when not nil) as the
// administrator.
func (fx *Fixture) Query(tb testing.TB, query string, variables map[string]any) *Response {
	tb.Helper()
	body := map[string]any{"query": query}
	if variables != nil {
		body["variables"] = variables
	}
	b, err := json.Marshal(body)
	if err != nil {
		tb.Fatal(err)
	}
	return fx.Do(tb, "POST", QueryPath(AccountID), fx.Admin, "application/json", b)
}

// MustQuery posts a query that must succeed and returns its items and
// X-Total-Count.
func (fx *Fixture) MustQuery(tb testing.TB, query string, variables map[string]any) ([]map[string]any, int) {
	tb.Helper()
	r := fx.Query(tb, query, variables)
	if r.Status != 200 {
		tb.Fatalf("query %s: got status %d, want 200: %s", query, r.Status, r.Body)
	}
	var v struct {
		Data struct {
			AuditData []map[string]any `json:"auditData"`
		} `json:"data"`
		Errors []any `json:"errors"`
	}
	if err := json.Unmarshal(r.Body, &v); err != nil {
		tb.Fatalf("query %s: %v: %s", query, err, r.Body)
	}
	if v.Errors != nil || v.Data.AuditData == nil {
		tb.Fatalf("query %s: got %s, want data.auditData", query, r.Body)
	}
	var total int
	if _, err := fmt.Sscan(r.Header.Get("X-Total-Count"), &total); err != nil {
		tb.Fatalf("query %s: X-Total-Count %q: %v", query, r.Header.Get("X-Total-Count"), err)
	}
	return v.Data.AuditData, total
}

// Export gets the export with the query string q as the administrator.
func (fx *Fixture) Export(tb testing.TB, q string) *Response {
	tb.Helper()
	return fx.Do(tb, "GET", ExportPath(AccountID)+q, fx.Admin, "", nil)
}

func QueryPath(account string) string {
	return "/api/account/" + account + "/configuration/metadata/audit"
}

func ExportPath(account string) string { return QueryPath(account) + "/export" }

// Golden compares got with testdata/name, or rewrites the file with -update.
func Golden(tb testing.TB, name string, got []byte) {
	tb.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("%s: got\n%s\nwant\n%s", name, got, want)
	}
}

// Indent pretty-prints a JSON body for a golden file, keeping key order.
func Indent(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "    "); err != nil {
		tb.Fatalf("%v: %s", err, b)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// Seed is the history of the golden tests: the documentation's kinds of
// change, an LPA's change, an automatic one, values a spreadsheet would
// read as formulas, and one record older than the retention window.
func Seed() []*audittrail.Record {
	olivia := audittrail.Originator{ID: "o-1", Name: "Olivia Admin", LoginName: "olivia", EmployeeID: "E-100",
		Profiles: []string{"Administrator", "Campaign Manager"}, UserAgent: "Mozilla/5.0", AuthType: "SSO"}
	bob := audittrail.Originator{ID: "o-2", Name: "Bob Manager", LoginName: "bob", Profiles: []string{"Agent Manager"}, AuthType: "password"}
	lpa := audittrail.Originator{ID: "lpa-7", Name: "LP Support", LoginName: "lpsupport", AuthType: "LPA", IsLPA: true}
	system := audittrail.Originator{ID: "system", Name: "Automatic rule"}
	mallory := audittrail.Originator{ID: "o-3", Name: "@mallory", EmployeeID: "=1+1", Profiles: []string{"=cmd"}}
	rec := func(date, typ, id, name, action, element, old, new string, o audittrail.Originator) *audittrail.Record {
		t, err := time.Parse(time.RFC3339Nano, date)
		if err != nil {
			panic(err)
		}
		return &audittrail.Record{ObjectType: typ, ObjectID: id, ObjectName: name, ActionType: action, Element: element,
			OldValue: old, NewValue: new, Date: t, Originator: o, ChangeID: audittrail.NewID("chg_"), Source: "platform"}
	}
	auto := rec("2026-06-05T12:00:00Z", "agent_groups", "g-9", "Night Shift", "add", "Name", "", "Night Shift", system)
	auto.Automatic = true
	return []*audittrail.Record{
		rec("2025-01-15T10:00:00Z", "users", "u-1", "Jane Doe", "edit", "Email", "jane@a.example", "jane@b.example", olivia),
		rec("2026-06-01T14:00:00Z", "users", "u-1", "Jane Doe", "add", "Login name", "", "jane", olivia),
		rec("2026-06-02T09:30:15.456Z", "users", "u-1", "Jane Doe", "edit", "Member of", "Sales", "Sales, Support", olivia),
		rec("2026-06-03T23:59:59.999Z", "skills", "s-4", "Billing", "edit", "Max wait time", "60", "90", bob),
		rec("2026-06-04T04:10:00Z", "permissions", "p-2", "Agent", "edit", "Permissions", "Chat", "Chat, Messaging", lpa),
		auto,
		rec("2026-06-06T08:00:00Z", "users", "u-2", "John Roe", "delete", "Enabled", "true", "", bob),
		rec("2026-06-07T10:00:00Z", "users", "u-1", "Jane Doe", "edit", "Nickname", "J", `=HYPERLINK("http://evil.example","x")`, olivia),
		rec("2026-06-08T15:45:30.100Z", "lobs", "l-1", "EMEA", "edit", "Description", "", "-5 days, \"quoted\"\nsecond line", mallory),
		rec("2026-06-09T03:00:00Z", "post_conversation_survey", "pcs-1", "CSAT", "edit", "Status", "Inactive", "Active", olivia),
	}
}

// AllFields is the documentation's request of every field.
const AllFields = `{auditData {accountId objectType objectName actionType element oldValue newValue changeDate originator originatorLoginName originatorUserId originatorUserAgent originatorAuthType originatorIsLpa}}`

// strs returns the values of one field of items.
func strs(items []map[string]any, field string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, fmt.Sprint(it[field]))
	}
	return out
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
