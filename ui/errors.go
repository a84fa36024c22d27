package ui

import (
	"log/slog"
	"net/http"

	"github.com/audittrail/audittrail"
	athttp "github.com/audittrail/audittrail/http"
)

// errorStatus returns the status of a page that shows err: the API's
// status for the same code (SPEC §6), from the API's one table, so that a
// page answers as the API would.
func errorStatus(err error) int { return athttp.ErrorStatusCode(audittrail.ErrorCode(err)) }

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
