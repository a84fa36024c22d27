package http

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/audittrail/audittrail"
)

// ErrorStatusCode returns the HTTP status of an error code (the contract's
// one table, audittrail.ErrorStatus).
func ErrorStatusCode(code string) int { return audittrail.ErrorStatus(code) }

type errorBody struct {
	Error errorObject `json:"error"`
}

type errorObject struct {
	Code    string                   `json:"code"`
	Message string                   `json:"message"`
	Details []audittrail.ErrorDetail `json:"details"`
}

// Error writes err in the contract's error body. Internal errors are logged
// in full and shown as "internal error"; other 5xx errors that wrap a cause
// (a store's EUNAVAILABLE over a full disk) are logged with it.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := audittrail.ErrorCode(err), audittrail.ErrorMessage(err)
	details := []audittrail.ErrorDetail{}
	var e *audittrail.Error
	if errors.As(err, &e) && e.Details != nil {
		details = e.Details
	}
	if code == audittrail.EINTERNAL {
		s.logger.LogAttrs(r.Context(), slog.LevelError, "internal error", slog.String(logRoute, r.Pattern), slog.String(logError, err.Error()))
	} else if _, bare := err.(*audittrail.Error); !bare && ErrorStatusCode(code) >= 500 {
		// A failure of the service's own (storage that cannot write) whose
		// cause, wrapped in the error, the caller is not shown.
		s.logger.LogAttrs(r.Context(), slog.LevelWarn, "unavailable", slog.String(logRoute, r.Pattern), slog.String(logError, err.Error()))
	}
	writeJSON(w, ErrorStatusCode(code), errorBody{errorObject{Code: code, Message: msg, Details: details}})
}

// writeJSON writes v as the JSON body with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
