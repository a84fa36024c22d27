package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/service"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// timezonesTxt lists the IANA time zones that the settings page offers:
// the zones of the tz database's zone.tab, and UTC.
//
//go:embed timezones.txt
var timezonesTxt string

func splitZones() []string { return strings.Fields(timezonesTxt) }

// Log attribute keys.
const (
	logMethod   = "method"
	logPath     = "path"
	logStatus   = "status"
	logDuration = "duration_ms"
	logError    = "error"
)

// PageSize is the number of records on a page of the audit trail.
const PageSize = 50

// Handler serves the web UI and hands every other request to the API.
type Handler struct {
	svc     *service.Service
	api     http.Handler
	catalog *audittrail.Catalog
	logger  *slog.Logger

	mux       *http.ServeMux
	pages     map[string]*template.Template
	assets    map[string]string // file name under static/ → URL with a version
	timezones []string
}

// New returns the UI over svc, which every page and form calls with the
// session's principal; its clock ends the timeframes ("Last 7 days"), its
// catalog labels the object types and its retention is the one the pages
// state. api serves every request that is not a page of the UI (the API,
// /healthz, /metrics), since the UI and the API share one origin.
func New(svc *service.Service, api http.Handler, logger *slog.Logger) *Handler {
	h := &Handler{
		svc:     svc,
		api:     api,
		catalog: svc.Catalog(),
		logger:  logger,
		mux:     http.NewServeMux(),
		assets:  map[string]string{},
	}
	h.timezones = splitZones()
	h.loadAssets()
	h.loadTemplates()
	for _, rt := range h.routes() {
		h.mux.HandleFunc(rt.pattern, rt.handler)
	}
	return h
}

type route struct {
	pattern string
	handler http.HandlerFunc
}

// routes is the whole UI: each page and form, and who may use it.
func (h *Handler) routes() []route {
	return []route{
		{"GET /{$}", h.handleHome},
		{"GET /login", h.handleLoginPage},
		{"POST /login", h.handleLogin},
		{"POST /logout", h.page(signedIn, h.handleLogout)},

		{"GET /audit-trail", h.page(viewer, h.handleAuditTrail)},
		{"GET /audit-trail/export", h.page(viewer, h.handleExport)},
		{"GET /access-log", h.page(viewer, h.handleAccessLog)},
		{"GET /access-log/export.csv", h.page(viewer, h.handleAccessExport)},

		{"GET /users", h.page(administrator, h.handleUsers)},
		{"GET /users/new", h.page(administrator, h.handleNewUser)},
		{"POST /users", h.page(administrator, h.handleCreateUser)},
		{"GET /users/{id}", h.page(administrator, h.handleEditUser)},
		{"POST /users/{id}", h.page(administrator, h.handleUpdateUser)},
		{"POST /users/{id}/delete", h.page(administrator, h.handleDeleteUser)},

		{"GET /profiles", h.page(administrator, h.handleProfiles)},
		{"GET /profiles/new", h.page(administrator, h.handleNewProfile)},
		{"POST /profiles", h.page(administrator, h.handleCreateProfile)},
		{"GET /profiles/{id}", h.page(administrator, h.handleEditProfile)},
		{"POST /profiles/{id}", h.page(administrator, h.handleUpdateProfile)},
		{"POST /profiles/{id}/delete", h.page(administrator, h.handleDeleteProfile)},

		{"GET /publisher-keys", h.page(administrator, h.handlePublisherKeys)},
		{"POST /publisher-keys", h.page(administrator, h.handleCreatePublisherKey)},
		{"POST /publisher-keys/{id}/revoke", h.page(administrator, h.handleRevokePublisherKey)},

		{"GET /settings", h.page(administrator, h.handleSettings)},
		{"POST /settings", h.page(administrator, h.handleUpdateSettings)},
		{"POST /settings/audit-trail", h.page(administrator, h.handleAuditTrailSwitch)},

		{"GET /static/", h.handleStatic},
		{"/", h.handleNotFound},
	}
}

// uiSections are the first path segments that belong to the UI; every
// other path (/api/..., /healthz, /readyz, /metrics) is the API's.
var uiSections = []string{"login", "logout", "audit-trail", "access-log", "users", "profiles", "publisher-keys", "settings", "static"}

func isUIPath(p string) bool {
	if p == "/" {
		return true
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	for _, s := range uiSections {
		if first == s {
			return true
		}
	}
	return false
}

// ServeHTTP serves the UI's pages with the security headers, and passes
// every other request to the API unchanged.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !isUIPath(r.URL.Path) {
		h.api.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	setSecurityHeaders(w.Header())
	defer func() {
		h.logger.LogAttrs(r.Context(), slog.LevelInfo, "ui request",
			slog.String(logMethod, r.Method), slog.String(logPath, r.URL.Path), slog.Int(logStatus, sw.status),
			slog.Float64(logDuration, float64(time.Since(start).Microseconds())/1000))
	}()
	h.mux.ServeHTTP(sw, r)
}

// ContentSecurityPolicy allows scripts, styles and images from the
// service only: no inline script, no inline style, no framing.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

func setSecurityHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
}

// statusWriter remembers the status of a response, for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush on the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// loadAssets fingerprints the static files, so that their URLs change with
// their content and browsers may keep them for long.
func (h *Handler) loadAssets() {
	fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		h.assets[strings.TrimPrefix(p, "static/")] = "/" + p + "?v=" + hex.EncodeToString(sum[:6])
		return nil
	})
}

func (h *Handler) handleStatic(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/static/")
	if _, ok := h.assets[name]; !ok {
		h.handleNotFound(w, r)
		return
	}
	if r.URL.Query().Get("v") != "" {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "public, max-age=300")
	}
	http.ServeFileFS(w, r, staticFS, "static/"+name)
}

// loadTemplates parses each page with the layout it is drawn in.
func (h *Handler) loadTemplates() {
	funcs := template.FuncMap{
		"asset":       func(name string) string { return h.assets[name] },
		"typeLabel":   h.catalog.Label,
		"actionLabel": audittrail.ActionLabel,
		"roleLabel":   audittrail.RoleLabel,
		"thousands":   thousands,
		"truncate":    truncate,
		"isRedacted":  func(s string) bool { return s == audittrail.Redacted },
	}
	h.pages = map[string]*template.Template{}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, name := range names {
		base := path.Base(name)
		if base == "layout.html" {
			continue
		}
		t := template.New(base).Funcs(funcs)
		h.pages[strings.TrimSuffix(base, ".html")] = template.Must(t.ParseFS(templateFS, "templates/layout.html", name))
	}
}

// render draws a page in the layout with the given status. It renders to a
// buffer first, so that a template error answers a clean 500.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	t, ok := h.pages[name]
	if !ok {
		h.fail(w, r, fmt.Errorf("no template %q", name))
		return
	}
	if v.Status == 0 {
		v.Status = status
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		h.fail(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail answers an internal error: logged in full, shown as a short page
// that names nothing of the internals.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.logger.LogAttrs(r.Context(), slog.LevelError, "ui internal error", slog.String(logPath, r.URL.Path), slog.String(logError, err.Error()))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprint(w, `<!doctype html><meta charset="utf-8"><title>Internal error</title><h1>Something went wrong</h1><p>The error has been logged. Please try again; if it persists, tell the service's operator.</p>`)
}

// view is what every page's template receives.
type view struct {
	Title   string
	Section string // the menu item of the page
	S       *session
	CSRF    string
	Notice  string // a success message
	Error   string // an error message, as the service worded it
	Status  int
	Page    any // the page's own data
}

// AccountName returns the name of the session's account, for the header.
func (v *view) AccountName() string {
	if v.S == nil || v.S.Account == nil {
		return ""
	}
	return v.S.Account.Name
}

// CanView reports whether the user may see the audit trail.
func (v *view) CanView() bool {
	return v.S != nil && v.S.Principal.Can(audittrail.PermissionViewAuditTrail)
}

// IsAdmin reports whether the user administers the account.
func (v *view) IsAdmin() bool { return v.S != nil && v.S.Principal.IsAdministrator() }

// UserName returns the signed-in user's name.
func (v *view) UserName() string {
	if v.S == nil || v.S.Principal.User == nil {
		return ""
	}
	return v.S.Principal.User.Name
}

// ProfileName returns the name of the signed-in user's profile.
func (v *view) ProfileName() string {
	if v.S == nil || v.S.Principal.Profile == nil {
		return ""
	}
	return v.S.Principal.Profile.Name
}

func (h *Handler) newView(s *session, title, section string) *view {
	v := &view{Title: title, Section: section, S: s}
	if s != nil {
		v.CSRF = s.CSRF
	}
	return v
}

// handleHome sends a user to the first page they may see.
func (h *Handler) handleHome(w http.ResponseWriter, r *http.Request) {
	s, err := h.session(r)
	if err != nil {
		h.redirectToLogin(w, r, err)
		return
	}
	to := "/audit-trail"
	if !s.Principal.Can(audittrail.PermissionViewAuditTrail) && s.Principal.IsAdministrator() {
		to = "/users"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (h *Handler) handleNotFound(w http.ResponseWriter, r *http.Request) {
	s, _ := h.session(r)
	v := h.newView(s, "Page not found", "")
	v.Page = errorPage{Heading: "Page not found", Text: "There is no page at this address. It may have moved, or the link may be incomplete."}
	h.render(w, r, http.StatusNotFound, "error", v)
}

// errorPage is the data of the error template.
type errorPage struct {
	Heading string
	Text    string
	Hint    string
	Link    string
	LinkTo  string
}

// thousands formats n with a comma between groups of three digits.
func thousands(n int) string {
	if n < 0 {
		return "-" + thousands(-n)
	}
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// truncate cuts s to at most n characters, with an ellipsis when cut.
func truncate(n int, s string) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
