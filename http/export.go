package http

import (
	"log/slog"
	"mime"
	"net/http"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
	"github.com/audittrail/audittrail/service"
)

// handleExport streams the records of the filter in format (SPEC §6):
// Excel up to export.MaxXLSXRecords, CSV and NDJSON without a cap.
func (s *Server) handleExport(format string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
		f, err := service.ParseFilter(r.URL.Query(), r.PathValue("account"), false)
		if err != nil {
			s.refuseRead(w, r, p, format, err)
			return
		}
		exp, err := s.svc.OpenExport(r.Context(), p, f, format)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		defer exp.Close()
		SetDownloadHeaders(w, exp.ContentType, exp.Filename)
		out := export.NewIdleWriter(w, http.NewResponseController(w), exp.IdleTimeout)
		n, err := exp.WriteTo(r.Context(), out, func(int) { out.Flush() })
		if err == nil {
			err = out.Close()
		}
		if err != nil {
			s.abortExport(r, exp.Account.ID, n, err, out)
		}
	}
}

// SetDownloadHeaders sets the headers of an export's download, for the
// API's exports and the UI's alike.
func SetDownloadHeaders(w http.ResponseWriter, contentType, filename string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
}

// abortExport ends an export that failed after n records: the status line
// has gone out, so all that is left is to cut the connection, and the
// client sees an incomplete download rather than a file that looks whole.
// A client dropped for reading nothing (out timed out) is logged as such.
func (s *Server) abortExport(r *http.Request, account string, n int, err error, out *export.IdleWriter) {
	if out.TimedOut() {
		s.logger.LogAttrs(r.Context(), slog.LevelWarn, "export dropped: the client read nothing for the idle timeout", slog.String(logAccount, account),
			slog.Int("records", n), slog.String("idle_timeout", out.Idle().String()))
	} else if r.Context().Err() == nil { // not a client that went away
		s.logger.LogAttrs(r.Context(), slog.LevelError, "export failed", slog.String(logAccount, account), slog.Int("records", n), slog.String(logError, err.Error()))
	}
	panic(http.ErrAbortHandler)
}
