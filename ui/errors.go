package ui

import (
	"log/slog"
	"net/http"

	"github.com/audittrail/audittrail"
)

// statuses maps the error codes the service returns to the UI to the status
// of the page that shows them: the API's status for the same code (SPEC §6),
// so that a page answers as the API would.
var statuses = map[string]int{
	audittrail.EUNAUTHENTICATED:      http.StatusUnauthorized,
	audittrail.EFORBIDDEN:            http.StatusForbidden,
	audittrail.ENOTFOUND:             http.StatusNotFound,
	audittrail.EINVALIDPARAMETER:     http.StatusBadRequest,
	audittrail.EVALIDATION:           http.StatusUnprocessableEntity,
	audittrail.EVALUETOOLONG:         http.StatusUnprocessableEntity,
	audittrail.EPERMISSIONNOTALLOWED: http.StatusUnprocessableEntity,
	audittrail.EALREADYEXISTS:        http.StatusConflict,
	audittrail.ECONFLICT:             http.StatusConflict,
	audittrail.EEXPORTTOOLARGE:       http.StatusUnprocessableEntity,
	audittrail.EEXPORTBUSY:           http.StatusTooManyRequests,
	audittrail.ETOOMANYREQUESTS:      http.StatusTooManyRequests,
	audittrail.EUNAVAILABLE:          http.StatusServiceUnavailable,
}

// errorStatus returns the status of a page that shows err.
func errorStatus(err error) int {
	if s, ok := statuses[audittrail.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// failure puts an error of the service in v, worded as the service words
// it, and returns the status of the page that shows it. An internal error
// is answered here (logged, shown as a short page), and ok is false.
func (h *Handler) failure(w http.ResponseWriter, r *http.Request, err error, v *view) (status int, ok bool) {
	if audittrail.ErrorCode(err) == audittrail.EINTERNAL {
		h.fail(w, r, err)
		return 0, false
	}
	status = errorStatus(err)
	if _, bare := err.(*audittrail.Error); !bare && status >= 500 {
		// The service's own failure (storage that cannot write), whose
		// wrapped cause the user is not shown.
		h.logger.LogAttrs(r.Context(), slog.LevelWarn, "ui unavailable", slog.String(logPath, r.URL.Path), slog.String(logError, err.Error()))
	}
	v.Error = sentence(audittrail.ErrorMessage(err))
	return status, true
}
