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

// auth says whether a route needs a credential. Who may call it is the
// service's rule (service.Authorize), applied by the operation the
// handler calls.
type auth int

const (
	public     auth = iota // no credential
	credential             // a valid credential, checked before the handler runs
)

// handlerFunc is a route's handler; p is nil on public routes.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p *audittrail.Principal)

type route struct {
	pattern string
	auth    auth
	rate    rateClass // the per-account limit the route's requests count against
	handler handlerFunc
}

// routes is the whole API: each route, whether it needs a credential, the
// rate limit it counts against, and its handler.
func (s *Server) routes() []route {
	return []route{
		{"GET /healthz", public, unlimited, s.handleHealthz},
		{"GET /readyz", public, unlimited, s.handleReadyz},
		{"GET /metrics", public, unlimited, s.handleMetrics},
		{"GET /api/v1/openapi.json", public, unlimited, s.handleOpenAPI},

		{"POST /api/v1/login", public, unlimited, s.handleLogin},
		{"POST /api/v1/logout", credential, unlimited, s.handleLogout},
		{"GET /api/v1/object-types", credential, unlimited, s.handleObjectTypes},

		{"POST /api/v1/accounts", credential, unlimited, s.handleCreateAccount},
		{"GET /api/v1/accounts/{account}", credential, unlimited, s.handleGetAccount},
		{"PATCH /api/v1/accounts/{account}", credential, unlimited, s.handlePatchAccount},

		{"GET /api/v1/accounts/{account}/users", credential, unlimited, s.handleListUsers},
		{"POST /api/v1/accounts/{account}/users", credential, unlimited, s.handleCreateUser},
		{"GET /api/v1/accounts/{account}/users/{id}", credential, unlimited, s.handleGetUser},
		{"PATCH /api/v1/accounts/{account}/users/{id}", credential, unlimited, s.handlePatchUser},
		{"DELETE /api/v1/accounts/{account}/users/{id}", credential, unlimited, s.handleDeleteUser},

		{"GET /api/v1/accounts/{account}/profiles", credential, unlimited, s.handleListProfiles},
		{"POST /api/v1/accounts/{account}/profiles", credential, unlimited, s.handleCreateProfile},
		{"GET /api/v1/accounts/{account}/profiles/{id}", credential, unlimited, s.handleGetProfile},
		{"PATCH /api/v1/accounts/{account}/profiles/{id}", credential, unlimited, s.handlePatchProfile},
		{"DELETE /api/v1/accounts/{account}/profiles/{id}", credential, unlimited, s.handleDeleteProfile},

		{"GET /api/v1/accounts/{account}/publisher-keys", credential, unlimited, s.handleListPublisherKeys},
		{"POST /api/v1/accounts/{account}/publisher-keys", credential, unlimited, s.handleCreatePublisherKey},
		{"DELETE /api/v1/accounts/{account}/publisher-keys/{id}", credential, unlimited, s.handleRevokePublisherKey},

		{"POST /api/v1/accounts/{account}/records", credential, ingestion, s.handlePostRecords},
		{"POST /api/v1/accounts/{account}/changes", credential, ingestion, s.handlePostChanges},
		{"GET /api/v1/accounts/{account}/records", credential, reads, s.handleListRecords},
		{"GET /api/v1/accounts/{account}/records/count", credential, reads, s.handleCountRecords},
		{"GET /api/v1/accounts/{account}/records/export.xlsx", credential, reads, s.handleExport(export.FormatXLSX)},
		{"GET /api/v1/accounts/{account}/records/export.csv", credential, reads, s.handleExport(export.FormatCSV)},
		{"GET /api/v1/accounts/{account}/records/export.ndjson", credential, reads, s.handleExport(export.FormatNDJSON)},
		{"GET /api/v1/accounts/{account}/records/{id}", credential, reads, s.handleGetRecord},

		{"GET /api/v1/checkpoint-key", credential, reads, s.handleCheckpointKey},
		{"GET /api/v1/accounts/{account}/checkpoint", credential, reads, s.handleCheckpoint},
		{"GET /api/v1/accounts/{account}/records/{id}/proof", credential, reads, s.handleProof},
		{"GET /api/v1/accounts/{account}/consistency", credential, reads, s.handleConsistency},

		// The LiveEngage-compatible API (SPEC §10).
		{liveengage.QueryPattern, credential, reads, s.handleLiveEngageQuery},
		{liveengage.ExportPattern, credential, reads, s.handleLiveEngageExport},
	}
}

// guard authenticates a request before its handler runs and applies the
// rate limit of the principal's account.
func (s *Server) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.auth == public {
			rt.handler(w, r, nil)
			return
		}
		p, err := s.authenticate(r)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if rt.rate != unlimited && p.AccountID != "" && !s.allowRate(w, r, rt.rate, p.AccountID) {
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
