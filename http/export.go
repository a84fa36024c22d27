package http

import (
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
)

// handleExport streams the records of the filter in format (SPEC §6):
// Excel up to export.MaxXLSXRecords, CSV and NDJSON without a cap.
func (s *Server) handleExport(format string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
		f, err := s.parseFilter(r, false)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		acct, err := s.Store.FindAccount(r.Context(), f.AccountID)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		loc, err := time.LoadLocation(acct.Timezone)
		if err != nil {
			loc = time.UTC
		}
		release, err := s.exports.Acquire(acct.ID)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		defer release()
		if format == export.FormatXLSX {
			if err := export.CheckSize(r.Context(), s.Store, f); err != nil {
				s.Error(w, r, err)
				return
			}
		}

		to := s.Now()
		if f.To != nil {
			to = *f.To
		}
		name := export.Filename(acct.ID, *f.From, to, loc, format)
		w.Header().Set("Content-Type", export.ContentType(format))
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		enc, err := export.NewEncoder(format, w, s.Catalog, loc)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		rc := http.NewResponseController(w)
		n, err := export.Write(r.Context(), s.Store, f, enc, func(int) { rc.Flush() })
		if err != nil {
			// The status line has gone out; all that is left is to cut the
			// connection, so the client sees an incomplete download rather
			// than a file that looks whole.
			if r.Context().Err() == nil { // not a client that went away
				s.Logger.LogAttrs(r.Context(), slog.LevelError, "export failed", slog.String(logAccount, acct.ID), slog.Int("records", n), slog.String(logError, err.Error()))
			}
			panic(http.ErrAbortHandler)
		}
	}
}
