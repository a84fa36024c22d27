package liveengage

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
)

// authenticate finds the principal behind the request's bearer credential.
func (h *Handler) authenticate(r *http.Request) (*audittrail.Principal, error) {
	token, ok := bearerToken(r)
	if !ok {
		return nil, audittrail.Errorf(audittrail.EUNAUTHENTICATED, "send a credential: Authorization: Bearer <token>")
	}
	return audittrail.Authenticate(r.Context(), h.store, h.OperatorToken, token)
}

// Handler serves the LiveEngage-compatible audit trail API (SPEC §10). It
// authenticates and authorizes its requests itself, so it can be mounted on
// a route that asks for no credential.
type Handler struct {
	// Retention is the retention window: nothing older is ever answered.
	Retention audittrail.Retention
	// Now is the clock of the retention window and of the default end day.
	Now func() time.Time
	// OperatorToken, when set, is the operator token, which answers 403
	// here as on the native read routes rather than 401 as an unknown
	// credential: it may not read records.
	OperatorToken string
	// Exports are the export slots of the accounts, shared with the
	// native API's exports so that an account runs at most
	// export.MaxPerAccount in all; New gives the handler slots of its own.
	Exports *export.Slots
	// Authenticate, when set, finds the principal of a request instead of
	// the handler's own look-up of its bearer credential: a server that
	// already authenticated the request (to rate-limit it) hands over its
	// answer rather than looking the credential up again.
	Authenticate func(*http.Request) (*audittrail.Principal, error)

	store   audittrail.Store
	catalog *audittrail.Catalog
	logger  *slog.Logger
	mux     *http.ServeMux

	// byComponent maps a lowercased component type name or catalog key to
	// the catalog's object type.
	byComponent map[string]*audittrail.ObjectType
}

// Paths of the two methods.
const (
	QueryPattern  = "POST /api/account/{accountId}/configuration/metadata/audit"
	ExportPattern = "GET /api/account/{accountId}/configuration/metadata/audit/export"
)

// New returns a handler of the two methods over store.
func New(store audittrail.Store, catalog *audittrail.Catalog, retention audittrail.Retention, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{
		Retention:   retention,
		Now:         time.Now,
		store:       store,
		catalog:     catalog,
		logger:      logger,
		Exports:     &export.Slots{},
		mux:         http.NewServeMux(),
		byComponent: map[string]*audittrail.ObjectType{},
	}
	for _, t := range catalog.Types() {
		h.byComponent[strings.ToLower(t.Key)] = t
	}
	for _, t := range catalog.Types() {
		h.byComponent[strings.ToLower(t.ComponentType)] = t
	}
	h.mux.HandleFunc(QueryPattern, h.handleQuery)
	h.mux.HandleFunc(ExportPattern, h.handleExport)
	return h
}

// ServeHTTP answers the two methods; any other request answers 404, or 405
// for the right path with another method, in the native error body.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := h.mux.Handler(r); pattern == "" {
		probe := &probeWriter{header: http.Header{}}
		h.mux.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", probe.header.Get("Allow"))
			h.writeError(w, r, audittrail.Errorf(audittrail.EMETHODNOTALLOWED, "%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, probe.header.Get("Allow")))
			return
		}
		h.writeError(w, r, audittrail.Errorf(audittrail.ENOTFOUND, "no such resource: %s", r.URL.Path))
		return
	}
	h.mux.ServeHTTP(w, r)
}

// authorize applies the native API's rule for reading records to the
// request's bearer credential and the account of its path: 401 without a
// valid credential, 400 for an account id that cannot exist, 404 for
// another account's, 403 without audit_trail.view.
func (h *Handler) authorize(r *http.Request) (*audittrail.Principal, error) {
	authenticate := h.Authenticate
	if authenticate == nil {
		authenticate = h.authenticate
	}
	p, err := authenticate(r)
	if err != nil {
		return nil, err
	}
	account := r.PathValue("accountId")
	if audittrail.ValidateAccountID(account) != nil {
		return nil, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "accountId %q is not a valid account id: 2 to 63 characters of a-z, 0-9 and '-'", clip(account))
	}
	// As on the native routes, the operator is not of an account: it
	// learns nothing about one, and may not read records.
	if p.Kind != audittrail.PrincipalOperator && p.AccountID != account {
		return nil, audittrail.Errorf(audittrail.ENOTFOUND, "account %s not found", account)
	}
	if !p.Can(audittrail.PermissionViewAuditTrail) {
		return nil, audittrail.Errorf(audittrail.EFORBIDDEN, "this request needs a user token of a user whose profile holds the audit_trail.view permission (an administrator grants it in Profiles)")
	}
	return p, nil
}

// statuses maps the error codes this package answers to HTTP statuses, as
// the native API does.
var statuses = map[string]int{
	audittrail.EUNAUTHENTICATED:  http.StatusUnauthorized,
	audittrail.EFORBIDDEN:        http.StatusForbidden,
	audittrail.ENOTFOUND:         http.StatusNotFound,
	audittrail.EINVALIDPARAMETER: http.StatusBadRequest,
	audittrail.EINVALIDJSON:      http.StatusBadRequest,
	audittrail.EMETHODNOTALLOWED: http.StatusMethodNotAllowed,
	audittrail.EEXPORTBUSY:       http.StatusTooManyRequests,
	audittrail.EUNAVAILABLE:      http.StatusServiceUnavailable,
}

type errorBody struct {
	Error errorObject `json:"error"`
}

type errorObject struct {
	Code    string                   `json:"code"`
	Message string                   `json:"message"`
	Details []audittrail.ErrorDetail `json:"details"`
}

// writeError writes err in the native API's error body. Internal errors are
// logged in full and shown as "internal error".
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := audittrail.ErrorCode(err), audittrail.ErrorMessage(err)
	details := []audittrail.ErrorDetail{}
	var e *audittrail.Error
	if errors.As(err, &e) && e.Details != nil {
		details = e.Details
	}
	status, ok := statuses[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status == http.StatusInternalServerError {
		h.logger.LogAttrs(r.Context(), slog.LevelError, "internal error", slog.String(logPath, r.URL.Path), slog.String(logError, err.Error()))
	}
	writeJSON(w, status, errorBody{errorObject{Code: code, Message: msg, Details: details}})
}

// Log attribute keys.
const (
	logPath    = "path"
	logAccount = "account"
	logError   = "error"
	logRecords = "records"
)

// writeJSON writes v as the JSON body with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

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

// clip shortens a value echoed in a message.
func clip(s string) string {
	if r := []rune(s); len(r) > 64 {
		return string(r[:64]) + "…"
	}
	return s
}

// probeWriter catches what the mux would answer for an unrouted request.
type probeWriter struct {
	header http.Header
	status int
}

func (w *probeWriter) Header() http.Header         { return w.header }
func (w *probeWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *probeWriter) WriteHeader(code int)        { w.status = code }
