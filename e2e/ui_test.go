package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"
)

// The web UI in a real browser (SPEC §8): Debian's Chromium, headless,
// driven by chromedp against `audittrail serve --demo`. The steps run in
// order in one browser, as one person would use the UI.
//
// Set AUDITTRAIL_UI_SCREENSHOTS to a directory to save screenshots of the
// audit trail page, a filtered view, an opened row and the 403 page there.
func TestUI(t *testing.T) {
	chromium := chromiumPath(t)
	srv := MustStart(t, "--demo")
	b := MustBrowser(t, chromium, srv.URL)

	t.Run("RedirectToLogin", func(t *testing.T) {
		b.Navigate("/audit-trail?object_type=skills")
		if loc := b.Location(); !strings.Contains(loc, "/login?next=") {
			t.Fatalf("got %s, want the sign-in page", loc)
		}
	})
	t.Run("Login", func(t *testing.T) {
		b.Login("admin", "admin")
		// Back to the page asked for before signing in.
		if loc := b.Location(); !strings.HasSuffix(loc, "/audit-trail?object_type=skills") {
			t.Fatalf("after sign in: got %s, want /audit-trail?object_type=skills", loc)
		}
		b.Navigate("/")
		if loc := b.Location(); !strings.HasSuffix(loc, "/audit-trail") {
			t.Fatalf("GET /: got %s, want /audit-trail", loc)
		}
		menu := b.Strings(`[...document.querySelectorAll('#account-menu .menu-panel li a')].map(a => a.textContent.trim())`)
		if want := []string{"Audit trail", "Access log", "Users", "Profiles", "Publisher keys", "Settings"}; !slices.Equal(menu, want) {
			t.Errorf("account settings menu: got %q, want %q", menu, want)
		}
		if name := b.String(`document.querySelector('.account-name').textContent`); name != "Demo Contact Center" {
			t.Errorf("account name in the header: got %q", name)
		}
	})
	t.Run("Table", func(t *testing.T) {
		headers := b.Strings(`[...document.querySelectorAll('#records thead th[scope=col]')].map(th => th.textContent.trim())`)
		want := []string{"Object Type", "Object Name", "Action Type", "Element", "Old Value", "New Value", "Date", "Originator"}
		if !slices.Equal(headers, want) {
			t.Errorf("column headers: got %q, want %q", headers, want)
		}
		rows := b.Rows()
		if len(rows) != 50 {
			t.Fatalf("got %d rows, want a page of 50 demo rows", len(rows))
		}
		for _, r := range rows {
			if r.Type == "" || r.Name == "" || r.Element == "" || r.Originator == "" ||
				!slices.Contains([]string{"Add new", "Edit", "Delete"}, r.Action) || len(r.Date) != len("2006-01-02 15:04:05") {
				t.Errorf("row %+v: a cell is missing or malformed", r)
			}
		}
		for i := 1; i < len(rows); i++ {
			if rows[i].ISO > rows[i-1].ISO {
				t.Errorf("row %d (%s) is newer than row %d (%s): want newest first", i, rows[i].ISO, i-1, rows[i-1].ISO)
			}
		}
		b.Screenshot("audit-trail.png", true)
	})
	t.Run("FilterByObjectTypeControls", func(t *testing.T) {
		b.SetValue("#f-type", "skills")
		b.SetValue("#f-timeframe", "13mo")
		b.ClickAndWait(`#filters button[type="submit"]`)
		loc := b.Location()
		if !strings.Contains(loc, "object_type=skills") || !strings.Contains(loc, "timeframe=13mo") {
			t.Errorf("URL: got %s, want object_type=skills and timeframe=13mo in it", loc)
		}
		rows := b.Rows()
		if len(rows) == 0 {
			t.Fatal("no rows")
		}
		for _, r := range rows {
			if r.Type != "Skills" {
				t.Errorf("row of type %q in a view filtered to Skills", r.Type)
			}
		}
		b.Screenshot("filtered.png", false)
	})
	t.Run("FilterByObjectTypeURL", func(t *testing.T) {
		b.Navigate("/audit-trail?object_type=users&action_type=delete&timeframe=13mo")
		if v := b.String(`document.getElementById('f-type').value`); v != "users" {
			t.Errorf("object type control: got %q, want users", v)
		}
		rows := b.Rows()
		if len(rows) == 0 {
			t.Fatal("no rows")
		}
		for _, r := range rows {
			if r.Type != "Users" || r.Action != "Delete" {
				t.Errorf("row %s %s in a view filtered to Users, Delete", r.Type, r.Action)
			}
		}
	})
	t.Run("Search", func(t *testing.T) {
		b.Navigate("/audit-trail?timeframe=13mo")
		b.SetValue("#f-q", "Take over")
		b.ClickAndWait(`#filters button[type="submit"]`)
		if loc := b.Location(); !strings.Contains(loc, "q=Take+over") {
			t.Errorf("URL: got %s, want q=Take+over in it", loc)
		}
		texts := b.Strings(`[...document.querySelectorAll('#records tr.rec')].map(tr => (tr.textContent + ' ' + tr.nextElementSibling.textContent).toLowerCase())`)
		if len(texts) == 0 {
			t.Fatal("no rows")
		}
		for _, s := range texts {
			if !strings.Contains(s, "take over") {
				t.Errorf("row without the search text: %.200s", s)
			}
		}
	})
	t.Run("OpenRow", func(t *testing.T) {
		b.Navigate("/audit-trail?object_type=permissions&action_type=edit&timeframe=13mo&q=Take+over")
		if b.Bool(`[...document.querySelectorAll('#records tr.detail')].some(d => !d.hidden)`) {
			t.Fatal("a row is open before it is asked")
		}
		// The first row whose old and new values are both set.
		id := b.String(`[...document.querySelectorAll('#records tr.rec')].find(tr =>
			tr.querySelector('.c-value.old').textContent && tr.querySelector('.c-value.new').textContent).dataset.id`)
		row, detail := "#r-"+id, "#d-"+id
		b.Click(row + " a.row-toggle")
		b.Poll(`!document.querySelector('` + detail + `').hidden`)
		if got := b.String(`document.querySelector('` + row + ` a.row-toggle').getAttribute('aria-expanded')`); got != "true" {
			t.Errorf("aria-expanded: got %q, want true", got)
		}
		// The whole old and new values, side by side, the difference marked.
		if !b.Bool(`(() => {
			const d = document.querySelector('` + detail + `');
			const o = d.querySelector('.old-value').getBoundingClientRect(), n = d.querySelector('.new-value').getBoundingClientRect();
			return o.width > 100 && n.width > 100 && o.right <= n.left && Math.abs(o.top - n.top) < 2;
		})()`) {
			t.Error("old and new values are not side by side")
		}
		if !b.Bool(`document.querySelector('` + detail + `').querySelectorAll('del, ins').length > 0`) {
			t.Error("no difference is marked")
		}
		full := b.String(`document.querySelector('` + detail + ` .old-value').textContent + document.querySelector('` + detail + ` .new-value').textContent`)
		if !strings.Contains(full, "Take over") {
			t.Errorf("the details do not hold the whole values: %q", full)
		}
		if loc := b.Location(); !strings.Contains(loc, "open="+id) {
			t.Errorf("URL: got %s, want the open row in it", loc)
		}
		b.Screenshot("opened-row.png", false)
		// The keyboard closes it again.
		b.Focus(row + " a.row-toggle")
		b.Key(" ")
		b.Poll(`document.querySelector('` + detail + `').hidden`)
	})
	t.Run("NextPage", func(t *testing.T) {
		b.Navigate("/audit-trail?timeframe=13mo&object_type=users")
		first := b.Rows()
		b.ClickAndWait("#next-page")
		if loc := b.Location(); !strings.Contains(loc, "cursor=") || !strings.Contains(loc, "object_type=users") {
			t.Errorf("URL: got %s, want the cursor and the filters", loc)
		}
		second := b.Rows()
		if len(first) != 50 || len(second) == 0 {
			t.Fatalf("got %d then %d rows", len(first), len(second))
		}
		for _, r := range second {
			if slices.ContainsFunc(first, func(f UIRow) bool { return f.ID == r.ID }) {
				t.Errorf("record %s on both pages", r.ID)
			}
			if r.Type != "Users" {
				t.Errorf("row of type %q on the second page of Users", r.Type)
			}
		}
		if second[0].ISO > first[len(first)-1].ISO {
			t.Errorf("second page starts at %s, after the first page's last %s", second[0].ISO, first[len(first)-1].ISO)
		}
		b.ClickAndWait("#first-page")
		if again := b.Rows(); again[0].ID != first[0].ID {
			t.Errorf("first page again: got %s first, want %s", again[0].ID, first[0].ID)
		}
	})
	t.Run("ExportToExcel", func(t *testing.T) {
		dir := t.TempDir()
		b.AllowDownloads(dir)
		b.Navigate("/audit-trail?object_type=skills&timeframe=30d")
		count := b.String(`document.querySelector('#result-count strong').textContent`)
		b.Click("#export")
		file := waitForFile(t, dir, ".xlsx", 2*time.Minute)
		if base := filepath.Base(file); !strings.HasPrefix(base, "audit-trail-demo-") {
			t.Errorf("file name: got %s, want audit-trail-demo-{from}-{to}.xlsx", base)
		}
		x, err := excelize.OpenFile(file)
		if err != nil {
			t.Fatalf("the download does not open as a workbook: %v", err)
		}
		defer x.Close()
		rows, err := x.GetRows("Audit trail")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(rows[0], ", "); got != "Object Type, Object Name, Action Type, Element, Old Value, New Value, Date, Originator" {
			t.Errorf("header row: got %s", got)
		}
		if got := fmt.Sprint(len(rows) - 1); got != strings.ReplaceAll(count, ",", "") {
			t.Errorf("got %s records in the file, want the %s the page counts", got, count)
		}
		for _, r := range rows[1:] {
			if r[0] != "Skills" {
				t.Errorf("row of type %q in an export of Skills", r[0])
				break
			}
		}
	})
	t.Run("ScriptIsText", func(t *testing.T) {
		token := mustDemoToken(t, srv)
		key := srv.Must(t, 201, "POST", "/api/v1/accounts/demo/publisher-keys", token, map[string]string{"name": "ui test"}).JSON(t)["key"].(string)
		hostileName := `<img src=x onerror="window.__pwned=2">`
		hostileValue := `<script>window.__pwned=1</script>`
		srv.Must(t, 201, "POST", "/api/v1/accounts/demo/records", key, map[string]any{"records": []map[string]any{{
			"object_type": "skills", "object_id": "x1", "object_name": hostileName, "action_type": "edit", "element": "Description",
			"old_value": "safe", "new_value": hostileValue, "originator": map[string]any{"name": "Mallory"},
		}}})
		b.Navigate("/audit-trail?q=__pwned")
		b.Click(`#records tr.rec a.row-toggle`)
		b.Poll(`!document.querySelector('#records tr.detail').hidden`)
		if got := b.String(`document.querySelector('#records tr.rec .c-name').textContent`); got != hostileName {
			t.Errorf("object name cell: got %q, want the text %q", got, hostileName)
		}
		if got := b.String(`document.querySelector('#records tr.detail .new-value').textContent`); got != hostileValue {
			t.Errorf("new value: got %q, want the text %q", got, hostileValue)
		}
		if b.Bool(`window.__pwned !== undefined || document.querySelector('#records img, #records script') !== null`) {
			t.Error("the record's markup ran or became elements")
		}
	})
	t.Run("FormWithoutCSRFRefused", func(t *testing.T) {
		b.Navigate("/settings")
		b.Eval(`document.querySelector('#settings-form input[name=csrf]').remove(); document.getElementById('s-name').value = 'Hijacked'`)
		b.ClickAndWait(`#settings-form button[type="submit"]`)
		if h := b.String(`document.querySelector('h1').textContent`); h != "This form could not be accepted" {
			t.Errorf("got the page %q, want the refusal", h)
		}
		b.Navigate("/settings")
		if name := b.String(`document.getElementById('s-name').value`); name != "Demo Contact Center" {
			t.Errorf("account name: got %q, want it unchanged", name)
		}
	})
	t.Run("UserWithoutPermission", func(t *testing.T) {
		// An administrator adds an agent through the Users page.
		b.Navigate("/users/new")
		b.SetValue("#u-name", "Casey Agent")
		b.SetValue("#u-login", "casey")
		b.SetValue("#u-email", "casey@example.com")
		b.SetValue("#u-password", "casey's password")
		if got := b.String(`document.querySelector('#u-profile option:checked').textContent`); got != "Agent (Agent)" {
			t.Errorf("default profile: got %q, want Agent (Agent)", got)
		}
		b.ClickAndWait(`#user-form button[type="submit"]`)
		if loc := b.Location(); !strings.HasSuffix(loc, "/users?done=user-created") {
			t.Fatalf("after creating a user: got %s", loc)
		}
		b.Logout()

		b.Login("casey", "casey's password")
		if n := b.Int(`document.querySelectorAll('#account-menu a[href="/audit-trail"]').length`); n != 0 {
			t.Error("the menu offers Audit trail to a user without the permission")
		}
		status := b.NavigateStatus("/audit-trail")
		if status != 403 {
			t.Errorf("GET /audit-trail: got status %d, want 403", status)
		}
		text := b.String(`document.querySelector('main').innerText`)
		for _, want := range []string{"You don't have access to the audit trail", "View audit trail permission", "Only an administrator who holds the View audit trail permission can give it to you; ask one of them."} {
			if !strings.Contains(text, want) {
				t.Errorf("403 page: %q is missing from %q", want, text)
			}
		}
		if n := b.Int(`document.querySelectorAll('main a[href="/profiles"]').length`); n != 0 {
			t.Error("the 403 page sends a user without the permission to Profiles, where she cannot get it")
		}
		b.Screenshot("forbidden.png", false)
	})
	t.Run("Logout", func(t *testing.T) {
		b.Logout()
		if loc := b.Location(); !strings.Contains(loc, "/login?signed_out=1") {
			t.Errorf("after sign out: got %s", loc)
		}
		b.Navigate("/audit-trail")
		if loc := b.Location(); !strings.Contains(loc, "/login") {
			t.Errorf("after sign out, /audit-trail: got %s, want the sign-in page", loc)
		}
	})
}

// chromiumPath returns the browser of the UI tests: $AUDITTRAIL_TEST_CHROMIUM,
// else chromium on the PATH, else /usr/bin/chromium. Without one the test is
// skipped, except under CI (CI=true), where it fails.
func chromiumPath(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("AUDITTRAIL_TEST_CHROMIUM")}
	if p, err := exec.LookPath("chromium"); err == nil {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/usr/bin/chromium")
	for _, p := range candidates {
		if fi, err := os.Stat(p); p != "" && err == nil && !fi.IsDir() {
			return p
		}
	}
	msg := "no Chromium for the browser tests of the web UI: install Debian's chromium or set AUDITTRAIL_TEST_CHROMIUM"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// UIBrowser is one headless Chromium tab on the UI of a server; its methods
// fail the test on error.
type UIBrowser struct {
	t       *testing.T
	ctx     context.Context
	base    string
	screens string
}

// MustBrowser starts headless Chromium with a fresh profile, closed when
// the test ends.
func MustBrowser(t *testing.T, path, base string) *UIBrowser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 10*time.Minute) // a hang, not a speed
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return &UIBrowser{t: t, ctx: ctx, base: base, screens: os.Getenv("AUDITTRAIL_UI_SCREENSHOTS")}
}

func (b *UIBrowser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// Navigate opens a path of the server and waits for the page to load.
func (b *UIBrowser) Navigate(path string) {
	b.t.Helper()
	b.do("navigate to "+path, chromedp.Navigate(b.base+path))
}

// NavigateStatus opens a path and returns the HTTP status of the page.
func (b *UIBrowser) NavigateStatus(path string) int {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.t.Fatalf("navigate to %s: %v", path, err)
	}
	return int(resp.Status)
}

// Location returns the address of the page.
func (b *UIBrowser) Location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return loc
}

// SetValue sets the value of an input or select.
func (b *UIBrowser) SetValue(sel, value string) {
	b.t.Helper()
	b.do("set "+sel, chromedp.SetValue(chromedp.CSS(sel), value))
}

// Click clicks an element, without waiting for anything.
func (b *UIBrowser) Click(sel string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// ClickAndWait clicks an element and waits for the page it leads to.
func (b *UIBrowser) ClickAndWait(sel string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
		b.t.Fatalf("click %s: %v", sel, err)
	}
}

// Focus moves the keyboard focus to an element.
func (b *UIBrowser) Focus(sel string) {
	b.t.Helper()
	b.do("focus "+sel, chromedp.Focus(chromedp.CSS(sel)))
}

// Key sends keys to the focused element.
func (b *UIBrowser) Key(keys string) {
	b.t.Helper()
	b.do("key", chromedp.KeyEvent(keys))
}

// Poll waits until a JavaScript expression is true.
func (b *UIBrowser) Poll(expr string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(time.Minute))); err != nil {
		b.t.Fatalf("wait for %s: %v", expr, err)
	}
}

func eval[T any](b *UIBrowser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (b *UIBrowser) Eval(expr string) {
	b.t.Helper()
	eval[chromedp.Void](b, expr)
}
func (b *UIBrowser) String(expr string) string    { b.t.Helper(); return eval[string](b, expr) }
func (b *UIBrowser) Strings(expr string) []string { b.t.Helper(); return eval[[]string](b, expr) }
func (b *UIBrowser) Bool(expr string) bool        { b.t.Helper(); return eval[bool](b, expr) }
func (b *UIBrowser) Int(expr string) int          { b.t.Helper(); return eval[int](b, expr) }

// UIRow is a row of the audit trail table as the page shows it.
type UIRow struct {
	ID, Type, Name, Action, Element, Old, New, Date, ISO, Originator string
}

// Rows reads the rows of the audit trail table.
func (b *UIBrowser) Rows() []UIRow {
	b.t.Helper()
	return eval[[]UIRow](b, `[...document.querySelectorAll('#records tr.rec')].map(tr => {
		const c = s => tr.querySelector(s).textContent.trim();
		return {ID: tr.dataset.id, Type: c('.type-label'), Name: c('.c-name'), Action: c('.c-action'), Element: c('.c-element'),
			Old: c('.c-value.old'), New: c('.c-value.new'), Date: c('.c-date'), ISO: tr.querySelector('time').getAttribute('datetime'),
			Originator: tr.querySelector('.c-originator').firstChild.textContent.trim()};
	})`)
}

// Login signs in to the demo account through the sign-in form.
func (b *UIBrowser) Login(login, password string) {
	b.t.Helper()
	if loc := b.Location(); !strings.Contains(loc, "/login") {
		b.Navigate("/login")
	}
	b.SetValue("#account_id", "demo")
	b.SetValue("#login_name", login)
	b.SetValue("#password", password)
	b.ClickAndWait(`#login-form button[type="submit"]`)
	if loc := b.Location(); strings.Contains(loc, "/login") {
		b.t.Fatalf("sign in as %s: still on %s: %s", login, loc, b.String(`document.body.innerText`))
	}
}

// Logout signs out through the account settings menu.
func (b *UIBrowser) Logout() {
	b.t.Helper()
	b.Click("#account-menu summary")
	b.ClickAndWait("#logout")
}

// AllowDownloads saves the browser's downloads in dir.
func (b *UIBrowser) AllowDownloads(dir string) {
	b.t.Helper()
	if _, err := chromedp.CallBrowser(b.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
	}); err != nil {
		b.t.Fatalf("allow downloads: %v", err)
	}
}

// Screenshot saves the page in $AUDITTRAIL_UI_SCREENSHOTS, if set: the
// whole page when full, else the window.
func (b *UIBrowser) Screenshot(name string, full bool) {
	b.t.Helper()
	if b.screens == "" {
		return
	}
	b.do("settle", chromedp.Sleep(250*time.Millisecond)) // let transitions end
	shot := chromedp.CaptureScreenshot()
	if full {
		shot = chromedp.FullScreenshot(100)
	}
	png, err := chromedp.Run(b.ctx, shot)
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	if err := os.MkdirAll(b.screens, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.screens, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// waitForFile waits for a finished download whose name ends with ext.
func waitForFile(t *testing.T, dir, ext string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		matches, _ := filepath.Glob(filepath.Join(dir, "*"+ext))
		if len(matches) > 0 {
			return matches[0]
		}
		time.Sleep(100 * time.Millisecond)
	}
	entries, _ := os.ReadDir(dir)
	t.Fatalf("no %s file in %s after %s (found %v)", ext, dir, timeout, entries)
	return ""
}

// mustDemoToken signs in to the demo account through the API.
func mustDemoToken(t *testing.T, srv *Server) string {
	t.Helper()
	r := srv.Must(t, 200, "POST", "/api/v1/login", "", map[string]string{"account_id": "demo", "login_name": "admin", "password": "admin"})
	return r.JSON(t)["token"].(string)
}
