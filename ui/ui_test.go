package ui_test

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
	"github.com/audittrail/audittrail/ingest"
	"github.com/audittrail/audittrail/service"
	"github.com/audittrail/audittrail/ui"
)

const (
	adminPassword = "correct horse battery"
	agentPassword = "agent password 123"
)

// apiAnswer is what the stand-in for the API answers every request that
// is not the UI's.
const apiAnswer = `{"status":"the API's answer"}`

// Fixture is a UI over a real service and SQLite store, with account
// "acme" (audit trail on, a few records, one of them hostile), its
// administrator "admin" and an agent "agent" whose profile lacks
// audit_trail.view. The API beside the UI is a stand-in that answers
// apiAnswer.
type Fixture struct {
	*httptest.Server
	Svc   *service.Service
	UI    *ui.Handler
	Admin *audittrail.Principal // acme's administrator
	Key   string                // a publisher key of acme
}

// MustFixture starts the UI on a fresh store.
func MustFixture(tb testing.TB, tls bool) *Fixture {
	tb.Helper()
	svc := newTestService(tb)
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, apiAnswer)
	})
	h := ui.New(svc, api, discardLogger())
	f := &Fixture{Svc: svc, UI: h}
	if tls {
		f.Server = httptest.NewTLSServer(h)
	} else {
		f.Server = httptest.NewServer(h)
	}
	tb.Cleanup(f.Server.Close)

	ctx := context.Background()
	must(tb)(svc.CreateAccount(ctx, service.Local(), service.AccountInput{
		ID: "acme", Name: "Acme Support", Timezone: "Europe/Paris",
		Admin: service.AdminInput{LoginName: "admin", Name: "Ada Admin", Email: "ada@example.com", Password: adminPassword},
	}))
	f.Admin, _ = f.mustSignIn(tb, "acme", "admin", adminPassword)
	on := true
	noErr(svc.UpdateAccount(ctx, f.Admin, "acme", audittrail.AccountUpdate{AuditTrailEnabled: &on}))(tb)
	f.Key = noErr(svc.CreatePublisherKey(ctx, f.Admin, "acme", "platform"))(tb).Key
	agentProfile := ""
	for _, p := range noErr(svc.FindProfiles(ctx, f.Admin, "acme"))(tb) {
		if p.Role == audittrail.RoleAgent {
			agentProfile = p.ID
		}
	}
	noErr(svc.CreateUser(ctx, f.Admin, "acme", service.UserInput{
		LoginName: ptr("agent"), Name: ptr("Arno Agent"), ProfileID: &agentProfile, Password: ptr(agentPassword),
	}))(tb)
	f.mustAppend(tb, f.Key, []map[string]any{
		{"object_type": "skills", "object_id": "s1", "object_name": "Billing", "action_type": "edit", "element": "description",
			"old_value": "Handles billing questions", "new_value": "Handles billing and refund questions", "originator": map[string]any{"name": "Bo Boss"}},
		{"object_type": "users", "object_id": "u1", "object_name": "<img src=x onerror=alert(1)>", "action_type": "edit", "element": "name",
			"old_value": "plain", "new_value": "<script>window.pwned=1</script>", "originator": map[string]any{"name": "Eve <b>Evil</b>"}},
	})
	return f
}

// noErr returns a function that returns v, failing tb if err is not nil:
// noErr(svc.FindUsers(...))(t).
func noErr[T any](v T, err error) func(testing.TB) T {
	return func(tb testing.TB) T {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return v
	}
}

// must returns a check of a call that answers two values and an error.
func must(tb testing.TB) func(_, _ any, err error) {
	return func(_, _ any, err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// mustSignIn logs a user in through the service and returns who they are
// and their token.
func (f *Fixture) mustSignIn(tb testing.TB, account, login, password string) (*audittrail.Principal, string) {
	tb.Helper()
	l := noErr(f.Svc.Login(context.Background(), account, login, password))(tb)
	return noErr(f.Svc.Authenticate(context.Background(), l.Token))(tb), l.Token
}

// mustAppend stores records of acme (given as the API's JSON items) with
// the publisher key.
func (f *Fixture) mustAppend(tb testing.TB, key string, records []map[string]any) {
	tb.Helper()
	b, _ := json.Marshal(records)
	var items []ingest.RecordInput
	if err := json.Unmarshal(b, &items); err != nil {
		tb.Fatal(err)
	}
	p := noErr(f.Svc.Authenticate(context.Background(), key))(tb)
	noErr(f.Svc.AppendRecords(context.Background(), p, "acme", items))(tb)
}

// account returns acme as stored.
func (f *Fixture) account(tb testing.TB) *audittrail.Account {
	tb.Helper()
	return noErr(f.Svc.FindAccount(context.Background(), service.Local(), "acme"))(tb)
}

// user returns the user of acme with the login name, or nil.
func (f *Fixture) user(tb testing.TB, login string) *audittrail.User {
	tb.Helper()
	for _, u := range noErr(f.Svc.FindUsers(context.Background(), service.Local(), "acme"))(tb) {
		if u.LoginName == login {
			return u
		}
	}
	return nil
}

// Browser is an HTTP client with a cookie jar that does not follow redirects.
type Browser struct {
	tb     testing.TB
	f      *Fixture
	c      *http.Client
	header http.Header // sent with every request
}

func (f *Fixture) Browser(tb testing.TB) *Browser {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{
		Transport:     f.Client().Transport,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Browser{tb: tb, f: f, c: c}
}

// Page is an answer to a browser request.
type Page struct {
	Status int
	Header http.Header
	Body   string
}

func (b *Browser) Get(path string) *Page {
	b.tb.Helper()
	return b.do("GET", path, nil)
}

func (b *Browser) Post(path string, form url.Values) *Page {
	b.tb.Helper()
	return b.do("POST", path, form)
}

func (b *Browser) do(method, path string, form url.Values) *Page {
	b.tb.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.f.URL+path, rd)
	for k, v := range b.header {
		req.Header[k] = v
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return &Page{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

var csrfPattern = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// CSRF returns the CSRF token of the first form of the page.
func (p *Page) CSRF(tb testing.TB) string {
	tb.Helper()
	m := csrfPattern.FindStringSubmatch(p.Body)
	if m == nil {
		tb.Fatalf("no CSRF token in the page:\n%s", p.Body)
	}
	return m[1]
}

// MustLogin signs the browser in through the sign-in form.
func (b *Browser) MustLogin(login, password string) {
	b.tb.Helper()
	p := b.Get("/login")
	r := b.Post("/login", url.Values{"csrf": {p.CSRF(b.tb)}, "account_id": {"acme"}, "login_name": {login}, "password": {password}})
	if r.Status != http.StatusSeeOther {
		b.tb.Fatalf("login: got status %d, want 303:\n%s", r.Status, r.Body)
	}
}

// mustContain checks that the page holds each of subs, as HTML or as text.
func mustContain(tb testing.TB, p *Page, subs ...string) {
	tb.Helper()
	text := html.UnescapeString(p.Body)
	for _, s := range subs {
		if !strings.Contains(p.Body, s) && !strings.Contains(text, s) {
			tb.Errorf("page does not contain %q:\n%s", s, p.Body)
		}
	}
}

// mustNotContain checks that the page's HTML holds none of subs.
func mustNotContain(tb testing.TB, p *Page, subs ...string) {
	tb.Helper()
	for _, s := range subs {
		if strings.Contains(p.Body, s) {
			tb.Errorf("page contains %q", s)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := MustFixture(t, false)
	b := f.Browser(t)
	for _, path := range []string{"/login", "/audit-trail", "/static/app.css", "/settings/nope"} {
		p := b.Get(path)
		for name, want := range map[string]string{
			"Content-Security-Policy": ui.ContentSecurityPolicy,
			"X-Frame-Options":         "DENY",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "same-origin",
		} {
			if got := p.Header.Get(name); got != want {
				t.Errorf("GET %s: %s: got %q, want %q", path, name, got, want)
			}
		}
	}
	if csp := ui.ContentSecurityPolicy; strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP allows inline script: %s", csp)
	}
	// The API's answers stay the API's.
	if p := b.Get("/healthz"); p.Status != 200 || p.Body != apiAnswer {
		t.Errorf("GET /healthz: got %d %s, want the API's answer", p.Status, p.Body)
	}
}

func TestRedirectToLogin(t *testing.T) {
	f := MustFixture(t, false)
	b := f.Browser(t)
	for path, want := range map[string]string{
		"/":                             "/login",
		"/audit-trail":                  "/login?next=%2Faudit-trail",
		"/audit-trail?object_type=lobs": "/login?next=%2Faudit-trail%3Fobject_type%3Dlobs",
		"/users":                        "/login?next=%2Fusers",
	} {
		p := b.Get(path)
		if p.Status != http.StatusSeeOther || p.Header.Get("Location") != want {
			t.Errorf("GET %s: got %d to %q, want 303 to %q", path, p.Status, p.Header.Get("Location"), want)
		}
	}
	// A form posted without a session changes nothing and goes to sign in.
	if p := b.Post("/settings", url.Values{"name": {"Hijacked"}}); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
		t.Errorf("POST /settings without a session: got %d to %q", p.Status, p.Header.Get("Location"))
	}
}

func TestLogin(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := MustFixture(t, false)
		b := f.Browser(t)
		p := b.Get("/login")
		mustContain(t, p, `name="account_id"`, `name="login_name"`, `name="password"`, `<label for="account_id">`)
		r := b.Post("/login", url.Values{"csrf": {p.CSRF(t)}, "account_id": {"acme"}, "login_name": {"admin"}, "password": {adminPassword}, "next": {"/audit-trail?object_type=skills"}})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/audit-trail?object_type=skills" {
			t.Fatalf("got %d to %q, want 303 to the next page", r.Status, r.Header.Get("Location"))
		}
		c := sessionCookie(t, r)
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure || c.Expires.IsZero() || !strings.HasPrefix(c.Value, "att_") {
			t.Errorf("session cookie: got %+v, want HttpOnly, SameSite=Strict, Path=/, not Secure over plain HTTP, expiring, holding the token", c)
		}
		home := b.Get("/")
		if home.Header.Get("Location") != "/audit-trail" {
			t.Errorf("GET /: got %q, want /audit-trail", home.Header.Get("Location"))
		}
		at := b.Get("/audit-trail")
		mustContain(t, at, "Acme Support", "Ada Admin", `href="/audit-trail"`, `href="/users"`, `href="/profiles"`, `href="/publisher-keys"`, `href="/settings"`, "Sign out")
	})
	t.Run("SecureUnderTLS", func(t *testing.T) {
		f := MustFixture(t, true)
		b := f.Browser(t)
		p := b.Get("/login")
		r := b.Post("/login", url.Values{"csrf": {p.CSRF(t)}, "account_id": {"acme"}, "login_name": {"admin"}, "password": {adminPassword}})
		if c := sessionCookie(t, r); !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Name != "__Host-"+ui.SessionCookie || c.Path != "/" {
			t.Errorf("session cookie under TLS: got %+v, want __Host-, Path=/, Secure, HttpOnly, SameSite=Strict", c)
		}
	})
	t.Run("SecureBehindTLSProxy", func(t *testing.T) {
		f := MustFixture(t, false)
		b := f.Browser(t)
		b.header = http.Header{"X-Forwarded-Proto": {"https"}}
		p := b.Get("/login")
		cookies := (&http.Response{Header: p.Header}).Cookies()
		if len(cookies) == 0 {
			t.Fatalf("GET /login set no cookie; want the CSRF cookie")
		}
		for _, c := range cookies {
			if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
				t.Errorf("cookie %s behind a proxy that terminates TLS: got %+v, want Secure, HttpOnly, SameSite=Strict", c.Name, c)
			}
		}
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		f := MustFixture(t, false)
		b := f.Browser(t)
		p := b.Get("/login")
		r := b.Post("/login", url.Values{"csrf": {p.CSRF(t)}, "account_id": {"acme"}, "login_name": {"admin"}, "password": {"wrong password"}})
		if r.Status != http.StatusUnauthorized {
			t.Errorf("got status %d, want 401", r.Status)
		}
		mustContain(t, r, "The account, login name or password is wrong.", `value="admin"`)
		mustNotContain(t, r, "wrong password")
	})
	t.Run("ErrThrottled", func(t *testing.T) {
		f := MustFixture(t, false)
		b := f.Browser(t)
		token := b.Get("/login").CSRF(t)
		var r *Page
		for range service.DefaultLoginAttempts + 1 {
			r = b.Post("/login", url.Values{"csrf": {token}, "account_id": {"acme"}, "login_name": {"admin"}, "password": {"guess guess"}})
		}
		if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
			t.Errorf("got status %d, Retry-After %q, want 429 and when to try again", r.Status, r.Header.Get("Retry-After"))
		}
		mustContain(t, r, "Too many failed logins", "try again in")
	})
	t.Run("ErrNoCSRF", func(t *testing.T) {
		f := MustFixture(t, false)
		b := f.Browser(t)
		b.Get("/login")
		r := b.Post("/login", url.Values{"account_id": {"acme"}, "login_name": {"admin"}, "password": {adminPassword}})
		if r.Status != http.StatusForbidden {
			t.Errorf("got status %d, want 403", r.Status)
		}
		for _, c := range r.Header.Values("Set-Cookie") {
			if strings.HasPrefix(c, ui.SessionCookie+"=") {
				t.Errorf("a session cookie was set: %s", c)
			}
		}
	})
	t.Run("Logout", func(t *testing.T) {
		f := MustFixture(t, false)
		b := f.Browser(t)
		b.MustLogin("admin", adminPassword)
		p := b.Get("/audit-trail")
		if r := b.Post("/logout", url.Values{"csrf": {p.CSRF(t)}}); r.Status != http.StatusSeeOther {
			t.Fatalf("POST /logout: got %d, want 303", r.Status)
		}
		if r := b.Get("/audit-trail"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Errorf("after sign out: got %d to %q, want the sign-in page", r.Status, r.Header.Get("Location"))
		}
	})
}

func sessionCookie(tb testing.TB, p *Page) *http.Cookie {
	tb.Helper()
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		if c.Name == ui.SessionCookie || c.Name == "__Host-"+ui.SessionCookie {
			return c
		}
	}
	tb.Fatalf("no session cookie in %q", p.Header.Values("Set-Cookie"))
	return nil
}

func TestCSRF(t *testing.T) {
	f := MustFixture(t, false)
	b := f.Browser(t)
	b.MustLogin("admin", adminPassword)
	token := b.Get("/settings").CSRF(t)
	for name, form := range map[string]url.Values{
		"Missing": {"name": {"Hijacked"}, "timezone": {"UTC"}},
		"Wrong":   {"name": {"Hijacked"}, "timezone": {"UTC"}, "csrf": {"x" + token}},
	} {
		t.Run(name, func(t *testing.T) {
			p := b.Post("/settings", form)
			if p.Status != http.StatusForbidden {
				t.Errorf("got status %d, want 403", p.Status)
			}
			mustContain(t, p, "nothing was changed")
		})
	}
	// Another session's token is refused too.
	other := f.Browser(t)
	other.MustLogin("admin", adminPassword)
	if p := other.Post("/settings", url.Values{"name": {"Hijacked"}, "timezone": {"UTC"}, "csrf": {token}}); p.Status != http.StatusForbidden {
		t.Errorf("token of another session: got status %d, want 403", p.Status)
	}
	if a := f.account(t); a.Name != "Acme Support" {
		t.Fatalf("account name: got %q, want it unchanged", a.Name)
	}
	t.Run("OK", func(t *testing.T) {
		p := b.Post("/settings", url.Values{"name": {"Acme Care"}, "timezone": {"America/New_York"}, "csrf": {token}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("got status %d, want 303:\n%s", p.Status, p.Body)
		}
		if a := f.account(t); a.Name != "Acme Care" || a.Timezone != "America/New_York" {
			t.Errorf("account: got %q %q, want Acme Care America/New_York", a.Name, a.Timezone)
		}
		mustContain(t, b.Get("/settings?done=settings-saved"), "The account settings were saved.", "Acme Care")
	})
}

func TestAuditTrail(t *testing.T) {
	f := MustFixture(t, false)
	b := f.Browser(t)
	b.MustLogin("admin", adminPassword)
	t.Run("Table", func(t *testing.T) {
		p := b.Get("/audit-trail")
		if p.Status != http.StatusOK {
			t.Fatalf("got status %d, want 200:\n%s", p.Status, p.Body)
		}
		var got []string
		for _, m := range regexp.MustCompile(`<th scope="col" class="[^"]*">([^<]+)</th>`).FindAllStringSubmatch(p.Body, -1) {
			got = append(got, m[1])
		}
		want := "Object Type,Object Name,Action Type,Element,Old Value,New Value,Date,Originator"
		if strings.Join(got, ",") != want {
			t.Errorf("column headers: got %v, want %s", got, want)
		}
		mustContain(t, p, "Billing", "Skills", ">Edit<", "Bo Boss", "Times are in Europe/Paris")
		// The self-audit of the fixture's set-up is in the trail too.
		mustContain(t, p, "Publisher Keys")
	})
	t.Run("Escaped", func(t *testing.T) {
		p := b.Get("/audit-trail?object_type=users&q=script")
		mustContain(t, p, "&lt;script&gt;window.pwned=1&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;", "Eve &lt;b&gt;Evil&lt;/b&gt;")
		mustNotContain(t, p, "<script>window", "<img src=x", "<b>Evil")
	})
	t.Run("Diff", func(t *testing.T) {
		p := b.Get("/audit-trail?object_type=skills")
		mustContain(t, p, "Handles billing <ins>and refund </ins>questions")
	})
	t.Run("CanonicalURL", func(t *testing.T) {
		p := b.Get("/audit-trail?timeframe=7d&from=&to=&object_type=skills&object_type=users&action_type=&originator=&q=")
		if want := "/audit-trail?object_type=skills%2Cusers&timeframe=7d"; p.Status != http.StatusSeeOther || p.Header.Get("Location") != want {
			t.Errorf("got %d to %q, want 303 to %q", p.Status, p.Header.Get("Location"), want)
		}
	})
	t.Run("Filters", func(t *testing.T) {
		p := b.Get("/audit-trail?object_type=skills")
		mustContain(t, p, "Billing")
		mustNotContain(t, p, "Eve &lt;b&gt;")
		mustContain(t, p, `<option value="skills" selected>Skills</option>`, `id="clear-filters"`)
	})
	t.Run("EmptyFilters", func(t *testing.T) {
		p := b.Get("/audit-trail?q=nothing-matches-this")
		mustContain(t, p, "No changes match these filters", "Clear filters")
	})
	t.Run("EmptyTimeframe", func(t *testing.T) {
		p := b.Get("/audit-trail?from=2020-01-01&to=2020-01-31")
		mustContain(t, p, "No changes in this timeframe")
	})
	t.Run("ErrBadDate", func(t *testing.T) {
		p := b.Get("/audit-trail?from=yesterday")
		if p.Status != http.StatusBadRequest {
			t.Errorf("got status %d, want 400", p.Status)
		}
		mustContain(t, p, `id="filter-error"`, "is not a date")
	})
	t.Run("ErrAPIParameter", func(t *testing.T) {
		p := b.Get("/audit-trail?originator=" + strings.Repeat("x", 600))
		if p.Status != http.StatusBadRequest {
			t.Errorf("got status %d, want 400", p.Status)
		}
		mustContain(t, p, "Originator is longer than 512 characters.")
	})
	t.Run("Export", func(t *testing.T) {
		p := b.Get("/audit-trail/export?object_type=skills")
		if p.Status != http.StatusOK || p.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
			!strings.Contains(p.Header.Get("Content-Disposition"), "attachment; filename=audit-trail-acme-") || !strings.HasPrefix(p.Body, "PK") {
			t.Errorf("got %d %q %q, want an xlsx attachment", p.Status, p.Header.Get("Content-Type"), p.Header.Get("Content-Disposition"))
		}
		csv := b.Get("/audit-trail/export?object_type=skills&format=csv")
		if !strings.HasPrefix(strings.TrimPrefix(csv.Body, "\ufeff"), "Object Type,Object Name,Action Type") || !strings.Contains(csv.Body, "Billing") {
			t.Errorf("CSV export: got %q", csv.Body)
		}
	})
	t.Run("Paging", func(t *testing.T) {
		// More records than a page holds.
		recs := make([]map[string]any, ui.PageSize+5)
		for i := range recs {
			recs[i] = map[string]any{"object_type": "lobs", "object_id": "l1", "object_name": "Sales", "action_type": "edit",
				"element": "name", "old_value": "a", "new_value": "b", "originator": map[string]any{"name": "Pager"}}
		}
		f.mustAppend(t, f.Key, recs)
		p := b.Get("/audit-trail?object_type=lobs")
		if n := strings.Count(p.Body, `<tr class="rec`); n != ui.PageSize {
			t.Errorf("first page: got %d rows, want %d", n, ui.PageSize)
		}
		next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(p.Body)
		if next == nil || !strings.Contains(next[1], "cursor=") || !strings.Contains(next[1], "object_type=lobs") {
			t.Fatalf("no next page link with the cursor and the filters: %v", next)
		}
		p2 := b.Get(strings.ReplaceAll(next[1], "&amp;", "&"))
		if n := strings.Count(p2.Body, `<tr class="rec`); n != 5 {
			t.Errorf("second page: got %d rows, want 5", n)
		}
		mustContain(t, p2, `rel="first"`, "55</strong> changes")
		mustNotContain(t, p2, `rel="next"`)
	})
}

func TestAuditTrail_ExportRefused(t *testing.T) {
	f := MustFixture(t, false)
	b := f.Browser(t)
	b.MustLogin("admin", adminPassword)
	t.Run("ErrBusy", func(t *testing.T) {
		for range export.MaxPerAccount {
			release := noErr(f.Svc.AcquireExportSlot("acme"))(t)
			defer release()
		}
		p := b.Get("/audit-trail/export?timeframe=13mo")
		if p.Status != http.StatusTooManyRequests || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") || p.Header.Get("Content-Disposition") != "" {
			t.Errorf("got %d %q %q, want 429 and the page", p.Status, p.Header.Get("Content-Type"), p.Header.Get("Content-Disposition"))
		}
		mustContain(t, p, `id="export-error"`, "The export could not be made.", "exports of this account are already running", `<table class="records"`)
		mustNotContain(t, p, "Download it as CSV instead")
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		if testing.Short() {
			t.Skip("stores more records than an Excel export holds")
		}
		rec := map[string]any{"object_type": "lobs", "object_id": "l1", "object_name": "Sales", "action_type": "edit",
			"element": "name", "old_value": "a", "new_value": "b", "originator": map[string]any{"name": "Bulk"}}
		for n := 0; n <= export.MaxXLSXRecords; n += ingest.MaxBatch {
			batch := make([]map[string]any, ingest.MaxBatch)
			for i := range batch {
				batch[i] = rec
			}
			f.mustAppend(t, f.Key, batch)
		}
		p := b.Get("/audit-trail/export?timeframe=13mo")
		if p.Status != http.StatusUnprocessableEntity || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			t.Errorf("got %d %q, want 422 and the page", p.Status, p.Header.Get("Content-Type"))
		}
		mustContain(t, p, `id="export-error"`, "This export is too large for Excel.", "Download it as CSV instead", `<table class="records"`)
	})
}

// brokenWriter is a response whose connection fails at the first byte.
type brokenWriter struct {
	header http.Header
	status int
}

func (w *brokenWriter) Header() http.Header { return w.header }
func (w *brokenWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *brokenWriter) Write([]byte) (int, error) { return 0, errors.New("connection reset by peer") }

func TestAuditTrail_ExportAborted(t *testing.T) {
	// A download that fails once its status line has gone out is cut
	// short, so the browser cannot take it for a whole file.
	f := MustFixture(t, false)
	b := f.Browser(t)
	b.MustLogin("admin", adminPassword)
	req := httptest.NewRequest("GET", "/audit-trail/export?format=csv", nil)
	u, _ := url.Parse(f.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	w := &brokenWriter{header: http.Header{}}
	defer func() {
		if got := recover(); got != http.ErrAbortHandler {
			t.Errorf("got panic %v, want http.ErrAbortHandler", got)
		}
		if w.status != http.StatusOK || !strings.HasPrefix(w.header.Get("Content-Disposition"), "attachment; filename=audit-trail-acme-") {
			t.Errorf("got %d %q, want the download's status and headers", w.status, w.header.Get("Content-Disposition"))
		}
	}()
	f.UI.ServeHTTP(w, req)
}

func TestForbidden(t *testing.T) {
	f := MustFixture(t, false)
	b := f.Browser(t)
	b.MustLogin("agent", agentPassword)
	if p := b.Get("/"); p.Header.Get("Location") != "/audit-trail" {
		t.Errorf("GET /: got %q, want /audit-trail", p.Header.Get("Location"))
	}
	p := b.Get("/audit-trail")
	if p.Status != http.StatusForbidden {
		t.Errorf("GET /audit-trail: got status %d, want 403", p.Status)
	}
	mustContain(t, p, "You don't have access to the audit trail", "View audit trail permission", "Your profile, Agent,",
		"Only an administrator who holds the View audit trail permission can give it to you; ask one of them.")
	mustNotContain(t, p, `href="/audit-trail"`, `href="/users"`, `href="/profiles"`, `id="records"`, "grant it in Profiles")
	mustContain(t, p, "Sign out")
	for _, path := range []string{"/audit-trail/export", "/users", "/users/new", "/profiles", "/publisher-keys", "/settings"} {
		if p := b.Get(path); p.Status != http.StatusForbidden {
			t.Errorf("GET %s as an agent: got status %d, want 403", path, p.Status)
		}
	}
	token := p.CSRF(t)
	if p := b.Post("/users", url.Values{"csrf": {token}, "login_name": {"x"}, "name": {"X"}, "password": {"password123"}}); p.Status != http.StatusForbidden {
		t.Errorf("POST /users as an agent: got status %d, want 403", p.Status)
	}
}

func TestUsers(t *testing.T) {
	f := MustFixture(t, false)
	b := f.Browser(t)
	b.MustLogin("admin", adminPassword)
	form := b.Get("/users/new")
	mustContain(t, form, `<label for="u-login">`, `name="profile_id"`, `Agent (Agent)`)
	profile := regexp.MustCompile(`<option value="(prf_[^"]+)" selected>Agent \(Agent\)`).FindStringSubmatch(form.Body)
	if profile == nil {
		t.Fatalf("the Agent profile is not chosen by default:\n%s", form.Body)
	}
	t.Run("ErrShortPassword", func(t *testing.T) {
		p := b.Post("/users", url.Values{"csrf": {form.CSRF(t)}, "login_name": {"bo"}, "name": {"Bo"}, "profile_id": {profile[1]}, "enabled": {"on"}, "password": {"short"}})
		if p.Status != http.StatusUnprocessableEntity {
			t.Errorf("got status %d, want 422", p.Status)
		}
		mustContain(t, p, "Password must be at least 8 characters.", `value="bo"`)
	})
	t.Run("OK", func(t *testing.T) {
		p := b.Post("/users", url.Values{"csrf": {form.CSRF(t)}, "login_name": {"bo"}, "name": {"Bo Brown"}, "email": {"bo@example.com"}, "profile_id": {profile[1]}, "enabled": {"on"}, "password": {"a good password"}})
		if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/users?done=user-created" {
			t.Fatalf("got %d to %q, want 303 to /users?done=user-created:\n%s", p.Status, p.Header.Get("Location"), p.Body)
		}
		list := b.Get("/users?done=user-created")
		mustContain(t, list, "The user was created.", "Bo Brown", "bo@example.com")
		u := f.user(t, "bo")
		if u == nil || u.Name != "Bo Brown" || !u.Enabled {
			t.Fatalf("user bo: got %+v", u)
		}
		// Through the service, so it audited itself.
		mustContain(t, b.Get("/audit-trail?object_type=users&q=Bo+Brown"), "Bo Brown", "Ada Admin")

		edit := b.Get("/users/" + u.ID)
		mustContain(t, edit, `value="Bo Brown"`, "Delete user")
		if p := b.Post("/users/"+u.ID, url.Values{"csrf": {edit.CSRF(t)}, "login_name": {"bo"}, "name": {"Bo Black"}, "profile_id": {profile[1]}}); p.Status != http.StatusSeeOther {
			t.Fatalf("edit: got %d:\n%s", p.Status, p.Body)
		}
		if u := f.user(t, "bo"); u.Name != "Bo Black" || u.Enabled {
			t.Errorf("edited user: got %q enabled=%v, want Bo Black, disabled", u.Name, u.Enabled)
		}
		if p := b.Post("/users/"+u.ID+"/delete", url.Values{"csrf": {edit.CSRF(t)}}); p.Status != http.StatusSeeOther {
			t.Fatalf("delete: got %d:\n%s", p.Status, p.Body)
		}
		if _, err := f.Svc.FindUser(t.Context(), service.Local(), "acme", u.ID); audittrail.ErrorCode(err) != audittrail.ENOTFOUND {
			t.Errorf("deleted user: got %v, want not found", err)
		}
	})
}

func TestProfiles(t *testing.T) {
	f := MustFixture(t, false)
	b := f.Browser(t)
	b.MustLogin("admin", adminPassword)
	form := b.Get("/profiles/new")
	if !regexp.MustCompile(`id="perm-view"[^>]*disabled`).MatchString(form.Body) {
		t.Errorf("View audit trail is offered for an agent-role profile:\n%s", form.Body)
	}
	mustContain(t, form, "Only a profile whose role is Administrator can hold this permission.")
	t.Run("ErrPermissionNotAllowed", func(t *testing.T) {
		p := b.Post("/profiles", url.Values{"csrf": {form.CSRF(t)}, "name": {"Leads"}, "role": {"agent"}, "permissions": {"audit_trail.view"}})
		if p.Status != http.StatusUnprocessableEntity {
			t.Errorf("got status %d, want 422", p.Status)
		}
		mustContain(t, p, "may only be held by a profile whose role is administrator")
	})
	t.Run("OK", func(t *testing.T) {
		p := b.Post("/profiles", url.Values{"csrf": {form.CSRF(t)}, "name": {"Auditors"}, "role": {"administrator"}, "permissions": {"audit_trail.view"}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("got status %d:\n%s", p.Status, p.Body)
		}
		mustContain(t, b.Get("/profiles"), "Auditors")
	})
	t.Run("Administrator", func(t *testing.T) {
		list := b.Get("/profiles")
		id := regexp.MustCompile(`href="/profiles/(prf_[^"]+)">Administrator<`).FindStringSubmatch(list.Body)
		if id == nil {
			t.Fatal("no Administrator profile in the list")
		}
		p := b.Get("/profiles/" + id[1])
		mustContain(t, p, "can't be changed or deleted", `<fieldset class="plain" disabled>`)
		mustNotContain(t, p, "Delete profile")
	})
}

func TestPublisherKeys(t *testing.T) {
	f := MustFixture(t, false)
	b := f.Browser(t)
	b.MustLogin("admin", adminPassword)
	p := b.Get("/publisher-keys")
	mustContain(t, p, "platform", "Active")
	created := b.Post("/publisher-keys", url.Values{"csrf": {p.CSRF(t)}, "name": {"Staging"}})
	if created.Status != http.StatusCreated {
		t.Fatalf("got status %d, want 201:\n%s", created.Status, created.Body)
	}
	mustContain(t, created, "Copy it now: it won't be shown again.", `id="new-key"`)
	key := regexp.MustCompile(`id="new-key" class="mono" readonly value="(atk_[^"]+)"`).FindStringSubmatch(created.Body)
	if key == nil {
		t.Fatalf("the new key is not shown:\n%s", created.Body)
	}
	if created.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control: got %q, want no-store", created.Header.Get("Cache-Control"))
	}
	// The key works, and is never shown again.
	f.mustAppend(t, key[1], []map[string]any{
		{"object_type": "lobs", "object_id": "l9", "object_name": "Staging", "action_type": "add", "element": "name", "new_value": "Staging", "originator": map[string]any{"name": "CI"}}})
	mustNotContain(t, b.Get("/publisher-keys"), key[1])

	id := regexp.MustCompile(`action="/publisher-keys/(key_[^"]+)/revoke"`).FindStringSubmatch(created.Body)
	if r := b.Post("/publisher-keys/"+id[1]+"/revoke", url.Values{"csrf": {p.CSRF(t)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("revoke: got status %d:\n%s", r.Status, r.Body)
	}
	mustContain(t, b.Get("/publisher-keys?done=key-revoked"), "was revoked", "Revoked")
}

func TestSettings_AuditTrailSwitch(t *testing.T) {
	f := MustFixture(t, false)
	b := f.Browser(t)
	b.MustLogin("admin", adminPassword)
	p := b.Get("/settings")
	mustContain(t, p, `id="trail-status">On<`, "Turn off the audit trail", `<option value="Europe/Paris" selected>Europe/Paris</option>`)
	if r := b.Post("/settings/audit-trail", url.Values{"csrf": {p.CSRF(t)}, "enabled": {"false"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("got status %d:\n%s", r.Status, r.Body)
	}
	if a := f.account(t); a.AuditTrailEnabled {
		t.Error("the audit trail is still on")
	}
	mustContain(t, b.Get("/audit-trail"), "The audit trail is turned off")
}

func TestStatic(t *testing.T) {
	f := MustFixture(t, false)
	b := f.Browser(t)
	p := b.Get("/login")
	for _, m := range regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`).FindAllStringSubmatch(p.Body, -1) {
		a := b.Get(m[1])
		if a.Status != 200 || !strings.Contains(a.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("GET %s: got %d, Cache-Control %q", m[1], a.Status, a.Header.Get("Cache-Control"))
		}
	}
	if a := b.Get("/static/nope.js"); a.Status != http.StatusNotFound {
		t.Errorf("GET /static/nope.js: got %d, want 404", a.Status)
	}
	// No inline script or style anywhere: the CSP would block it.
	b.MustLogin("admin", adminPassword)
	for _, path := range []string{"/login?x", "/audit-trail?open=x", "/users", "/users/new", "/profiles", "/profiles/new", "/publisher-keys", "/settings"} {
		body := b.Get(path).Body
		if regexp.MustCompile(`<script>|<script [^>]*>[^<]|<style`).MatchString(body) {
			t.Errorf("GET %s has an inline script or style element", path)
		}
		for _, tag := range regexp.MustCompile(`<[a-zA-Z][^>]*>`).FindAllString(body, -1) {
			if regexp.MustCompile(`\s(on[a-z]+|style)=`).MatchString(tag) {
				t.Errorf("GET %s: tag %s has an inline handler or style", path, tag)
			}
		}
	}
}

func TestSession(t *testing.T) {
	f := MustFixture(t, false)
	t.Run("Ended", func(t *testing.T) {
		b := f.Browser(t)
		b.MustLogin("admin", adminPassword)
		u, _ := url.Parse(f.URL)
		var token string
		for _, c := range b.c.Jar.Cookies(u) {
			if c.Name == ui.SessionCookie {
				token = c.Value
			}
		}
		// The token is revoked elsewhere (a sign-out through the API).
		p := noErr(f.Svc.Authenticate(t.Context(), token))(t)
		if err := f.Svc.Logout(t.Context(), p, token); err != nil {
			t.Fatal(err)
		}
		at := b.Get("/audit-trail")
		if want := "/login?ended=1&next=%2Faudit-trail"; at.Status != http.StatusSeeOther || at.Header.Get("Location") != want {
			t.Errorf("got %d to %q, want 303 to %q", at.Status, at.Header.Get("Location"), want)
		}
		if c := sessionCookie(t, at); c.MaxAge >= 0 {
			t.Errorf("the stale session cookie is kept: %+v", c)
		}
		mustContain(t, b.Get("/login?ended=1"), "Your session has ended.")
	})
	t.Run("CrossSiteLink", func(t *testing.T) {
		// A link from another site carries no SameSite=Strict cookie: the
		// page reloads itself from this site first.
		req, _ := http.NewRequest("GET", f.URL+"/audit-trail?object_type=skills", nil)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := f.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), `http-equiv="refresh" content="0;url=/audit-trail?object_type=skills"`) {
			t.Errorf("got %d %s, want a same-site reload", resp.StatusCode, body)
		}
	})
	t.Run("AdministratorWithoutAuditTrail", func(t *testing.T) {
		p := noErr(f.Svc.CreateProfile(t.Context(), f.Admin, "acme", service.ProfileInput{Name: ptr("Admins without trail"), Role: ptr(audittrail.RoleAdministrator)}))(t)
		noErr(f.Svc.CreateUser(t.Context(), f.Admin, "acme", service.UserInput{LoginName: ptr("nova"), Name: ptr("Nova"), ProfileID: &p.ID, Password: ptr("nova password")}))(t)
		b := f.Browser(t)
		b.MustLogin("nova", "nova password")
		if got := b.Get("/").Header.Get("Location"); got != "/users" {
			t.Errorf("GET /: got %q, want /users", got)
		}
		users := b.Get("/users")
		mustContain(t, users, `href="/users"`, `href="/settings"`)
		mustNotContain(t, users, `href="/audit-trail"`)
		at := b.Get("/audit-trail")
		if at.Status != http.StatusForbidden {
			t.Errorf("GET /audit-trail: got %d, want 403", at.Status)
		}
		// Only a holder of the permission can grant it (SPEC §4): the page
		// says so and does not send her to Profiles to give it to herself.
		mustContain(t, at, "Your profile, Admins without trail,", "Only an administrator who holds the View audit trail permission can give it to you; ask one of them.")
		mustNotContain(t, at, "Open Profiles", "grant it in Profiles")
		if main := at.Body[strings.Index(at.Body, "<main"):]; strings.Contains(main, `href="/profiles"`) {
			t.Errorf("the 403 page links to Profiles:\n%s", main)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		b := f.Browser(t)
		b.MustLogin("admin", adminPassword)
		if p := b.Get("/users/usr_nope"); p.Status != http.StatusNotFound || !strings.Contains(p.Body, "That user does not exist") {
			t.Errorf("GET /users/usr_nope: got %d", p.Status)
		}
		if p := b.Get("/settings/nope"); p.Status != http.StatusNotFound || !strings.Contains(p.Body, "Page not found") {
			t.Errorf("GET /settings/nope: got %d", p.Status)
		}
	})
}

func TestAuditTrail_NotEnabled(t *testing.T) {
	f := MustFixture(t, false)
	must(t)(f.Svc.CreateAccount(t.Context(), service.Local(), service.AccountInput{
		ID: "beta", Name: "Beta", Admin: service.AdminInput{LoginName: "admin", Password: adminPassword},
	}))
	b := f.Browser(t)
	p := b.Get("/login")
	b.Post("/login", url.Values{"csrf": {p.CSRF(t)}, "account_id": {"beta"}, "login_name": {"admin"}, "password": {adminPassword}})
	at := b.Get("/audit-trail")
	if at.Status != http.StatusOK {
		t.Fatalf("got status %d, want 200", at.Status)
	}
	mustContain(t, at, "The audit trail isn't enabled yet", `href="/settings">Turn it on in Settings`)
	mustNotContain(t, at, `id="records"`)
	// The sign-in form remembers the account.
	b.Post("/logout", url.Values{"csrf": {at.CSRF(t)}})
	mustContain(t, b.Get("/login"), `id="account_id" name="account_id" value="beta"`)
}
