// Package http is the HTTP API of the service (SPEC §6, §10): the route
// table and the handlers that turn requests into calls on the service
// layer (service/) and its answers into responses, with the one table of
// error codes to statuses. Handlers hold no rule and never write SQL.
package http

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
	"github.com/audittrail/audittrail/liveengage"
	"github.com/audittrail/audittrail/service"
)

// MaxBodyBytes bounds every request body (SPEC §6).
const MaxBodyBytes = 5 << 20

// Config is the API's own configuration: the per-account rate limits.
type Config struct {
	IngestLimit RateLimit
	ReadLimit   RateLimit
}

// DefaultConfig returns the limits of a server started without options.
func DefaultConfig() Config {
	return Config{IngestLimit: DefaultIngestLimit, ReadLimit: DefaultReadLimit}
}

// Server serves the API (SPEC §6 and §10): it parses requests, calls the
// service and writes its answers. It holds no rule of the product.
type Server struct {
	svc    *service.Service
	logger *slog.Logger

	mux     *http.ServeMux
	rates   *rateLimiter
	metrics *metrics
	le      *liveengage.Handler
}

// NewServer returns a server over the service with its routes registered.
func NewServer(svc *service.Service, cfg Config, logger *slog.Logger) *Server {
	s := &Server{
		svc:     svc,
		logger:  logger,
		mux:     http.NewServeMux(),
		metrics: newMetrics(),
		rates:   newRateLimiter(cfg.IngestLimit, cfg.ReadLimit),
	}
	s.le = liveengage.New(svc)
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
		s.logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
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

// access says who may call a route: a level of the service's rule
// (service.Access), which the guard checks before the handler runs, so that
// a refused request is neither read nor counted against a rate limit; the
// operation the handler calls checks it again, as it does for every front
// end. A self route's handler checks it itself, in the order its API
// answers (LiveEngage: 400 for an impossible account id before 404 or 403).
type access struct {
	level service.Access
	self  bool
}

var (
	public        = access{level: service.Public}
	authenticated = access{level: service.Authenticated}
	operator      = access{level: service.Operator}
	anyUser       = access{level: service.AnyUser}
	administrator = access{level: service.Administrator}
	viewer        = access{level: service.Viewer}
	publisher     = access{level: service.Publisher}
	self          = access{level: service.Viewer, self: true}
)

func (a access) String() string {
	if a.self {
		return "self"
	}
	return a.level.String()
}

// rateClass returns what a route's requests count against, from who may
// call it: publishers write records, the holders of audit_trail.view read
// them. The management routes of administrators and the operator are not
// limited: they are few, and an account's own administrators make them.
func (a access) rateClass() rateClass {
	switch a.level {
	case service.Publisher:
		return ingestion
	case service.Viewer:
		return reads
	}
	return unlimited
}

// handlerFunc is a route's handler; p is nil on public routes.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p *audittrail.Principal)

type route struct {
	pattern string
	access  access
	handler handlerFunc
}

// routes is the whole API: each route, who may call it, and its handler.
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

		{"GET /api/v1/accounts/{account}/access-log", viewer, s.handleListAccess},
		{"GET /api/v1/accounts/{account}/access-log/export.csv", viewer, s.handleExportAccess},

		{"GET /api/v1/checkpoint-key", viewer, s.handleCheckpointKey},
		{"GET /api/v1/accounts/{account}/checkpoint", viewer, s.handleCheckpoint},
		{"GET /api/v1/accounts/{account}/records/{id}/proof", viewer, s.handleProof},
		{"GET /api/v1/accounts/{account}/consistency", viewer, s.handleConsistency},

		// The LiveEngage-compatible API (SPEC §10).
		{liveengage.QueryPattern, self, s.handleLiveEngageQuery},
		{liveengage.ExportPattern, self, s.handleLiveEngageExport},
	}
}

// guard authenticates a request, applies the route's access rule and the
// rate limit of the account it reads or writes, then runs the handler.
func (s *Server) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.access == public {
			rt.handler(w, r, nil)
			return
		}
		p, err := s.authenticate(r)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		SetOrigin(p, r)
		account := r.PathValue("account")
		if rt.access.self {
			// Only a request that may read {accountId} counts against it,
			// so that a stranger cannot spend the account's budget; the
			// handler refuses the others in its API's order.
			account = r.PathValue("accountId")
			if service.Authorize(p, rt.access.level, account) != nil {
				account = ""
			}
		} else if err := service.Authorize(p, rt.access.level, account); err != nil {
			if action := readActions[rt.pattern]; action != "" && p.AccountID == account {
				// A refused read of one's own account is logged (SPEC
				// §11), so it counts against the rate limit of reads.
				if !s.allowRate(w, r, reads, account) {
					return
				}
				err = s.svc.RefuseRead(r.Context(), p, account, action, "", r.URL.Query(), err)
			}
			s.Error(w, r, err)
			return
		} else {
			account = p.AccountID
		}
		if c := rt.access.rateClass(); c != unlimited && account != "" && !s.allowRate(w, r, c, account) {
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
	return s.svc.Authenticate(r.Context(), token)
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.svc.Store().Ping(ctx); err != nil {
		// A store that knows what is wrong (a full disk) says so, in an
		// EUNAVAILABLE that Error logs with its cause.
		if audittrail.ErrorCode(err) != audittrail.EUNAVAILABLE {
			s.logger.Error("storage not ready", logError, err.Error())
			err = audittrail.Errorf(audittrail.EUNAVAILABLE, "storage is not reachable")
		}
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) handleObjectTypes(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	writeJSON(w, http.StatusOK, map[string]any{"object_types": s.svc.Catalog().Types()})
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
