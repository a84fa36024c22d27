// Package http is the HTTP API of the service (SPEC §6): the route table,
// who may call each route, and the handlers that turn requests into calls
// on the domain's store and ingester. Handlers never write SQL.
package http

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
	"github.com/audittrail/audittrail/ingest"
	"github.com/audittrail/audittrail/liveengage"
	"github.com/audittrail/audittrail/tlog"
)

// MaxBodyBytes bounds every request body (SPEC §6).
const MaxBodyBytes = 5 << 20

// Failed logins allowed per account and login name within the window.
const (
	DefaultLoginAttempts = 5
	DefaultLoginWindow   = time.Minute
)

// SetLoginThrottle sets how many failed logins per account and login name
// are allowed within window before logins are refused with 429.
func (s *Server) SetLoginThrottle(attempts int, window time.Duration) {
	s.throttle = newLoginThrottle(attempts, window)
}

// Server serves the API over a store.
type Server struct {
	Store         audittrail.Store
	Catalog       *audittrail.Catalog
	Ingester      *ingest.Ingester
	Log           *tlog.Log
	OperatorToken string
	Retention     audittrail.Retention
	TokenTTL      time.Duration
	Logger        *slog.Logger
	Now           func() time.Time

	mux *http.ServeMux
	le  struct {
		once    sync.Once
		handler *liveengage.Handler
	}
	throttle *loginThrottle
	rates    *rateLimiter
	exports  export.Slots // of both APIs: the native exports and LiveEngage's
	metrics  *metrics
}

// NewServer returns a server with its routes registered.
func NewServer(store audittrail.Store, catalog *audittrail.Catalog, logger *slog.Logger) *Server {
	s := &Server{
		Store:     store,
		Catalog:   catalog,
		Ingester:  ingest.New(catalog),
		Retention: audittrail.DefaultRetention,
		TokenTTL:  12 * time.Hour,
		Logger:    logger,
		Now:       time.Now,
		mux:       http.NewServeMux(),
		metrics:   newMetrics(),
		throttle:  newLoginThrottle(DefaultLoginAttempts, DefaultLoginWindow),
	}
	s.SetRateLimits(DefaultIngestLimit, DefaultReadLimit)
	s.Ingester.Now = func() time.Time { return s.Now() }
	// A key for this process alone, until the caller sets the service's own
	// (cmd/audittrail does, from --checkpoint-key-file or the data directory).
	skey, err := tlog.GenerateKey()
	if err != nil {
		panic(err)
	}
	signer, err := tlog.NewSigner(skey)
	if err != nil {
		panic(err)
	}
	s.Log = &tlog.Log{Store: store, Signer: signer, Logger: logger, Now: func() time.Time { return s.Now() }}
	for _, rt := range s.routes() {
		s.mux.Handle(rt.pattern, s.guard(rt))
	}
	return s
}

// ServeHTTP logs and measures every request, bounds its body, and answers
// unknown paths and methods with the contract's error body.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	r.Body = http.MaxBytesReader(sw, r.Body, MaxBodyBytes)
	_, pattern := s.mux.Handler(r)
	defer func() {
		// Also for a handler that aborts (an export cut short panics with
		// http.ErrAbortHandler): log and measure, then let it go on.
		route := pattern
		if route == "" {
			route = "unmatched"
		}
		elapsed := time.Since(start)
		s.metrics.observe(route, r.Method, sw.status, elapsed)
		s.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String(logMethod, r.Method), slog.String(logPath, r.URL.Path), slog.String(logRoute, route),
			slog.Int(logStatus, sw.status), slog.Int64(logBytes, sw.bytes),
			slog.Float64(logDuration, float64(elapsed.Microseconds())/1000))
	}()
	if pattern == "" {
		s.notRouted(sw, r)
		return
	}
	s.mux.ServeHTTP(sw, r)
}

// notRouted answers a request that no route matches: 405 when the path
// exists for other methods, else 404.
func (s *Server) notRouted(w http.ResponseWriter, r *http.Request) {
	probe := &probeWriter{header: http.Header{}}
	s.mux.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		s.Error(w, r, audittrail.Errorf(audittrail.EMETHODNOTALLOWED, "%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, probe.header.Get("Allow")))
		return
	}
	s.Error(w, r, audittrail.Errorf(audittrail.ENOTFOUND, "no such resource: %s", r.URL.Path))
}

// access says who may call a route.
type access int

const (
	public        access = iota // anyone, no credential
	authenticated               // any valid credential
	operator                    // the operator token
	anyUser                     // a user token
	administrator               // a user of {account} whose profile has the administrator role
	viewer                      // a user of {account} holding audit_trail.view
	publisher                   // a publisher key of {account}
	selfChecked                 // the handler checks itself, by the viewer rule (the LiveEngage-compatible routes)
)

func (a access) String() string {
	return [...]string{"public", "authenticated", "operator", "user", "administrator", "viewer", "publisher", "self"}[a]
}

// handlerFunc is a route's handler; p is nil on public routes.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p *audittrail.Principal)

type route struct {
	pattern string
	access  access
	handler handlerFunc
}

// routes is the whole API: each route, who may call it, and its handler.
// Who may call a route also says which per-account rate limit its requests
// count against (access.rateClass): publishers' against ingestion, viewers'
// against reads.
func (s *Server) routes() []route {
	return []route{
		{"GET /healthz", public, s.handleHealthz},
		{"GET /readyz", public, s.handleReadyz},
		{"GET /metrics", public, s.handleMetrics},
		{"GET /api/v1/openapi.json", public, s.handleOpenAPI},

		{"POST /api/v1/login", public, s.handleLogin},
		{"POST /api/v1/logout", anyUser, s.handleLogout},
		{"GET /api/v1/object-types", authenticated, s.handleObjectTypes},

		{"POST /api/v1/accounts", operator, s.handleCreateAccount},
		{"GET /api/v1/accounts/{account}", administrator, s.handleGetAccount},
		{"PATCH /api/v1/accounts/{account}", administrator, s.handlePatchAccount},

		{"GET /api/v1/accounts/{account}/users", administrator, s.handleListUsers},
		{"POST /api/v1/accounts/{account}/users", administrator, s.handleCreateUser},
		{"GET /api/v1/accounts/{account}/users/{id}", administrator, s.handleGetUser},
		{"PATCH /api/v1/accounts/{account}/users/{id}", administrator, s.handlePatchUser},
		{"DELETE /api/v1/accounts/{account}/users/{id}", administrator, s.handleDeleteUser},

		{"GET /api/v1/accounts/{account}/profiles", administrator, s.handleListProfiles},
		{"POST /api/v1/accounts/{account}/profiles", administrator, s.handleCreateProfile},
		{"GET /api/v1/accounts/{account}/profiles/{id}", administrator, s.handleGetProfile},
		{"PATCH /api/v1/accounts/{account}/profiles/{id}", administrator, s.handlePatchProfile},
		{"DELETE /api/v1/accounts/{account}/profiles/{id}", administrator, s.handleDeleteProfile},

		{"GET /api/v1/accounts/{account}/publisher-keys", administrator, s.handleListPublisherKeys},
		{"POST /api/v1/accounts/{account}/publisher-keys", administrator, s.handleCreatePublisherKey},
		{"DELETE /api/v1/accounts/{account}/publisher-keys/{id}", administrator, s.handleRevokePublisherKey},

		{"POST /api/v1/accounts/{account}/records", publisher, s.handlePostRecords},
		{"POST /api/v1/accounts/{account}/changes", publisher, s.handlePostChanges},
		{"GET /api/v1/accounts/{account}/records", viewer, s.handleListRecords},
		{"GET /api/v1/accounts/{account}/records/count", viewer, s.handleCountRecords},
		{"GET /api/v1/accounts/{account}/records/export.xlsx", viewer, s.handleExport(export.FormatXLSX)},
		{"GET /api/v1/accounts/{account}/records/export.csv", viewer, s.handleExport(export.FormatCSV)},
		{"GET /api/v1/accounts/{account}/records/export.ndjson", viewer, s.handleExport(export.FormatNDJSON)},
		{"GET /api/v1/accounts/{account}/records/{id}", viewer, s.handleGetRecord},

		{"GET /api/v1/checkpoint-key", viewer, s.handleCheckpointKey},
		{"GET /api/v1/accounts/{account}/checkpoint", viewer, s.handleCheckpoint},
		{"GET /api/v1/accounts/{account}/records/{id}/proof", viewer, s.handleProof},
		{"GET /api/v1/accounts/{account}/consistency", viewer, s.handleConsistency},

		// The LiveEngage-compatible API (SPEC §10) answers errors as that
		// API does (400 for an account id that cannot exist), so it applies
		// the viewer rule itself.
		{liveengage.QueryPattern, selfChecked, s.handleLiveEngage},
		{liveengage.ExportPattern, selfChecked, s.handleLiveEngage},
	}
}

// guard authenticates and authorizes a request before its handler runs.
func (s *Server) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.access == selfChecked {
			if r = s.allowLiveEngage(w, r); r == nil {
				return
			}
		}
		if rt.access == public || rt.access == selfChecked {
			rt.handler(w, r, nil)
			return
		}
		p, err := s.authenticate(r)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if err := authorize(rt.access, p, r.PathValue("account")); err != nil {
			s.Error(w, r, err)
			return
		}
		if c := rt.access.rateClass(); c != unlimited && p.AccountID != "" && !s.allowRate(w, r, c, p.AccountID) {
			return
		}
		rt.handler(w, r, p)
	})
}

// authenticate finds the principal behind the request's bearer credential.
func (s *Server) authenticate(r *http.Request) (*audittrail.Principal, error) {
	token, ok := bearerToken(r)
	if !ok {
		return nil, audittrail.Errorf(audittrail.EUNAUTHENTICATED, "send a credential: Authorization: Bearer <token or key>")
	}
	return audittrail.Authenticate(r.Context(), s.Store, s.OperatorToken, token)
}

// authorize applies a route's access rule. A credential of one account
// asking about another account gets ENOTFOUND, as if it did not exist.
func authorize(a access, p *audittrail.Principal, account string) error {
	if account != "" && p.Kind != audittrail.PrincipalOperator && p.AccountID != account {
		return audittrail.Errorf(audittrail.ENOTFOUND, "account %s not found", account)
	}
	var ok bool
	var need string
	switch a {
	case authenticated:
		ok = true
	case operator:
		ok, need = p.Kind == audittrail.PrincipalOperator, "the operator token"
	case anyUser:
		ok, need = p.Kind == audittrail.PrincipalUser, "a user token"
	case administrator:
		ok, need = p.IsAdministrator(), "a user whose profile has the administrator role"
	case viewer:
		ok, need = p.Can(audittrail.PermissionViewAuditTrail), "a user whose profile holds the audit_trail.view permission (an administrator grants it in Profiles)"
	case publisher:
		ok, need = p.Kind == audittrail.PrincipalPublisher, "a publisher key of the account (an administrator creates one in Publisher keys)"
	}
	if !ok {
		return audittrail.Errorf(audittrail.EFORBIDDEN, "this request needs %s", need)
	}
	return nil
}

// handleLiveEngage serves the LiveEngage-compatible API, built on first use
// from the server's settings as the caller left them.
func (s *Server) handleLiveEngage(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	s.le.once.Do(func() {
		h := liveengage.New(s.Store, s.Catalog, s.Retention, s.Logger)
		h.Now, h.OperatorToken, h.Exports = s.Now, s.OperatorToken, &s.exports
		h.Authenticate = s.liveAuthenticated
		s.le.handler = h
	})
	s.le.handler.ServeHTTP(w, r)
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		// A store that knows what is wrong (a full disk) says so, in an
		// EUNAVAILABLE that Error logs with its cause.
		if audittrail.ErrorCode(err) != audittrail.EUNAVAILABLE {
			s.Logger.Error("storage not ready", logError, err.Error())
			err = audittrail.Errorf(audittrail.EUNAVAILABLE, "storage is not reachable")
		}
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) handleObjectTypes(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	writeJSON(w, http.StatusOK, map[string]any{"object_types": s.Catalog.Types()})
}

// statusWriter remembers the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
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
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush on the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// probeWriter catches what the mux would answer for an unrouted request.
type probeWriter struct {
	header http.Header
	status int
}

func (w *probeWriter) Header() http.Header         { return w.header }
func (w *probeWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *probeWriter) WriteHeader(code int)        { w.status = code }

// bearerToken returns the credential of an "Authorization: Bearer" header;
// the scheme name is case-insensitive (RFC 7235).
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}
