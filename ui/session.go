package ui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/audittrail/audittrail"
	athttp "github.com/audittrail/audittrail/http"
	"github.com/audittrail/audittrail/service"
)

// Cookies and form fields of the UI.
const (
	SessionCookie   = "audittrail_session" // the user token of the signed-in user
	LoginCSRFCookie = "audittrail_login"   // the CSRF value of the sign-in form
	AccountCookie   = "audittrail_account" // the account id last signed in to, to fill the form
	CSRFField       = "csrf"
)

// maxFormBytes bounds the body of a form.
const maxFormBytes = 64 << 10

// Why a request has no session.
var (
	errNoSession    = errors.New("no session")
	errSessionEnded = errors.New("session ended")
)

// session is the signed-in user of a request: the user token from the
// cookie, who it is now (profile included), and their account.
type session struct {
	Token     string
	Principal *audittrail.Principal
	Account   *audittrail.Account
	CSRF      string
	Loc       *time.Location
}

// session returns the request's session: errNoSession without a cookie,
// errSessionEnded when its token is unknown, expired or revoked (or its
// user disabled or deleted), or a storage error.
func (h *Handler) session(r *http.Request) (*session, error) {
	c, err := cookie(r, SessionCookie)
	if err != nil || c.Value == "" {
		return nil, errNoSession
	}
	if len(c.Value) > 256 {
		return nil, errSessionEnded
	}
	p, err := h.svc.Authenticate(r.Context(), c.Value)
	if audittrail.ErrorCode(err) == audittrail.EUNAUTHENTICATED {
		return nil, errSessionEnded
	} else if err != nil {
		return nil, err
	}
	if p.Kind != audittrail.PrincipalUser || p.User == nil {
		return nil, errSessionEnded
	}
	athttp.SetOrigin(p, r)
	s := &session{Token: c.Value, Principal: p, CSRF: csrfToken(c.Value), Loc: time.UTC}
	if s.Account, err = h.svc.OwnAccount(r.Context(), p); err != nil {
		return nil, err
	}
	if loc, err := time.LoadLocation(s.Account.Timezone); err == nil {
		s.Loc = loc
	}
	return s, nil
}

// csrfToken is the CSRF token of the forms of a session: an HMAC of the
// session token. Any replica can check it without shared state, and it
// gives away nothing of the token, which an attacker cannot read.
func csrfToken(sessionToken string) string {
	mac := hmac.New(sha256.New, []byte(sessionToken))
	mac.Write([]byte("audittrail ui csrf v1"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// access says who may use a page.
type access int

const (
	signedIn      access = iota // any signed-in user
	viewer                      // a user holding audit_trail.view
	administrator               // a user whose profile has the administrator role
)

// page wraps a handler with the session it needs: without one it sends
// the browser to the sign-in page; a POST must carry the session's CSRF
// token; a user without the access gets a 403 page that says why.
func (h *Handler) page(a access, fn func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := h.session(r)
		if errors.Is(err, errNoSession) || errors.Is(err, errSessionEnded) {
			h.redirectToLogin(w, r, err)
			return
		} else if err != nil {
			h.fail(w, r, err)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil || !sameOrigin(r) || !hmac.Equal([]byte(r.PostForm.Get(CSRFField)), []byte(s.CSRF)) {
				h.forbidden(w, r, s, forbiddenCSRF)
				return
			}
		}
		switch {
		case a == viewer && !s.Principal.Can(audittrail.PermissionViewAuditTrail):
			h.forbidden(w, r, s, forbiddenAuditTrail)
			return
		case a == administrator && !s.Principal.IsAdministrator():
			h.forbidden(w, r, s, forbiddenAdmin)
			return
		}
		fn(w, r, s)
	}
}

// Reasons for a 403 page.
const (
	forbiddenAuditTrail = iota
	forbiddenAdmin
	forbiddenCSRF
)

func (h *Handler) forbidden(w http.ResponseWriter, r *http.Request, s *session, why int) {
	v := h.newView(s, "Access denied", "")
	switch why {
	case forbiddenAuditTrail:
		v.Title = "No access to the audit trail"
		profile := "Your profile"
		if s.Principal.Profile != nil {
			profile = "Your profile, " + s.Principal.Profile.Name + ","
		}
		v.Page = errorPage{
			Heading: "You don't have access to the audit trail",
			Text:    "Viewing the audit trail needs the View audit trail permission. " + profile + " doesn't include it.",
			// Only a holder can grant it (SPEC §4): no link to Profiles,
			// where she could not give it to herself.
			Hint: "Only an administrator who holds the View audit trail permission can give it to you; ask one of them. It comes only with a profile whose role is Administrator.",
		}
	case forbiddenAdmin:
		v.Page = errorPage{
			Heading: "This page is for account administrators",
			Text:    "Managing users, profiles, publisher keys and settings needs a profile whose role is Administrator.",
			Hint:    "Ask an account administrator if you need a change made.",
		}
	case forbiddenCSRF:
		v.Title = "Form expired"
		v.Page = errorPage{
			Heading: "This form could not be accepted",
			Text:    "The form was sent without its security token, or with one from another session, so nothing was changed.",
			Hint:    "Go back, reload the page and try again.",
		}
	}
	h.render(w, r, http.StatusForbidden, "error", v)
}

// redirectToLogin sends a request without a valid session to the sign-in
// page, which brings the user back here afterwards.
func (h *Handler) redirectToLogin(w http.ResponseWriter, r *http.Request, err error) {
	// A link followed from another site does not carry the SameSite=Strict
	// cookie. Reload the same address from this site first, which does.
	if r.Method == http.MethodGet && r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		target := html.EscapeString(r.URL.RequestURI())
		w.Write([]byte(`<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=` + target + `"><title>Audit trail</title><a href="` + target + `">Continue</a>`))
		return
	}
	q := url.Values{}
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		q.Set("next", r.URL.RequestURI())
	}
	if errors.Is(err, errSessionEnded) {
		q.Set("ended", "1")
		clearCookie(w, r, SessionCookie, "/")
	}
	to := "/login"
	if len(q) > 0 {
		to += "?" + q.Encode()
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// safeNext returns next when it is a page of the UI on this site, else "/".
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !isUIPath(u.Path) ||
		u.Path == "/login" || u.Path == "/logout" || strings.HasPrefix(u.Path, "/static/") {
		return "/"
	}
	return u.RequestURI()
}

// secure reports whether the browser reached the service over HTTPS: TLS
// here, or at a proxy in front that says so in X-Forwarded-Proto. Trusting
// the header can only make a cookie stricter: a forged one would keep the
// forger's own cookie off plain HTTP.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// cookieName is the name of the UI's cookie base on r: over HTTPS it has
// the __Host- prefix, which a browser keeps only for a Secure cookie of
// Path=/ and no Domain set by this very host, so that no other site — a
// sibling subdomain — can plant one (a forged sign-in CSRF cookie).
func cookieName(r *http.Request, base string) string {
	if secure(r) {
		return "__Host-" + base
	}
	return base
}

// cookie returns the UI's cookie base of r, under its name for r.
func cookie(r *http.Request, base string) (*http.Cookie, error) { return r.Cookie(cookieName(r, base)) }

// sameOrigin reports whether a state-changing request comes from the UI's
// own pages: a browser says where a request comes from in Sec-Fetch-Site
// and Origin, and either, when sent, must say this origin (no header: a
// client that is no browser, which cookies do not ride along with).
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		scheme := "http"
		if secure(r) {
			scheme = "https"
		}
		return origin == scheme+"://"+r.Host
	}
	return true
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, expires time.Time) {
	if secure(r) {
		path = "/" // as __Host- requires
	}
	c := &http.Cookie{Name: cookieName(r, name), Value: value, Path: path, HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode}
	if !expires.IsZero() {
		c.Expires = expires
		c.MaxAge = max(1, int(time.Until(expires).Seconds()))
	}
	http.SetCookie(w, c)
}

func clearCookie(w http.ResponseWriter, r *http.Request, name, path string) {
	if secure(r) {
		path = "/"
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName(r, name), Value: "", Path: path, MaxAge: -1, HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode})
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// loginPage is the data of the sign-in page.
type loginPage struct {
	AccountID string
	LoginName string
	Next      string
}

func (h *Handler) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	if _, err := h.session(r); err == nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	q := r.URL.Query()
	v := h.newView(nil, "Sign in", "")
	switch {
	case q.Get("ended") != "":
		v.Notice = "Your session has ended. Sign in again to continue."
	case q.Get("signed_out") != "":
		v.Notice = "You have signed out."
	}
	lp := loginPage{AccountID: q.Get("account"), Next: q.Get("next")}
	if c, err := cookie(r, AccountCookie); err == nil && lp.AccountID == "" {
		lp.AccountID = c.Value
	}
	h.renderLogin(w, r, http.StatusOK, v, lp)
}

// renderLogin draws the sign-in form with a CSRF value that matches its
// cookie (made when the browser has none).
func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, v *view, lp loginPage) {
	token := ""
	if c, err := cookie(r, LoginCSRFCookie); err == nil && len(c.Value) == 43 {
		token = c.Value
	} else {
		token = randomToken()
		setCookie(w, r, LoginCSRFCookie, token, "/login", time.Time{})
	}
	v.CSRF = token
	v.Page = lp
	h.render(w, r, status, "login", v)
}

func (h *Handler) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	err := r.ParseForm()
	lp := loginPage{AccountID: strings.TrimSpace(r.PostForm.Get("account_id")), LoginName: strings.TrimSpace(r.PostForm.Get("login_name")), Next: r.PostForm.Get("next")}
	v := h.newView(nil, "Sign in", "")
	c, cerr := cookie(r, LoginCSRFCookie)
	if !sameOrigin(r) {
		v.Error = "This sign-in form was sent from another site. Open the sign-in page of this service and sign in there."
		h.renderLogin(w, r, http.StatusForbidden, v, lp)
		return
	}
	if err != nil || cerr != nil || c.Value == "" || !hmac.Equal([]byte(c.Value), []byte(r.PostForm.Get(CSRFField))) {
		v.Error = "This sign-in form has expired or was sent from elsewhere. Please sign in again."
		h.renderLogin(w, r, http.StatusForbidden, v, lp)
		return
	}
	l, err := h.svc.Login(r.Context(), lp.AccountID, lp.LoginName, r.PostForm.Get("password"))
	if err != nil {
		var th *service.LoginThrottled
		if errors.As(err, &th) {
			w.Header().Set("Retry-After", strconv.Itoa(int(th.RetryAfter.Seconds())))
		}
		if st, ok := h.failure(w, r, err, v); ok {
			h.renderLogin(w, r, st, v, lp)
		}
		return
	}
	setCookie(w, r, SessionCookie, l.Token, "/", l.ExpiresAt)
	setCookie(w, r, AccountCookie, lp.AccountID, "/login", h.svc.Now().AddDate(1, 0, 0))
	http.Redirect(w, r, safeNext(lp.Next), http.StatusSeeOther)
}

func (h *Handler) handleLogout(w http.ResponseWriter, r *http.Request, s *session) {
	if err := h.svc.Logout(r.Context(), s.Principal, s.Token); err != nil {
		h.logger.Warn("ui logout", logError, err.Error())
	}
	clearCookie(w, r, SessionCookie, "/")
	http.Redirect(w, r, "/login?signed_out=1", http.StatusSeeOther)
}

// sentence makes a message of the service read as a sentence: capital
// first letter, full stop at the end.
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	r := []rune(msg)
	if r[0] >= 'a' && r[0] <= 'z' {
		r[0] -= 'a' - 'A'
	}
	s := string(r)
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") {
		s += "."
	}
	return s
}
