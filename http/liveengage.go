package http

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
	"github.com/audittrail/audittrail/liveengage"
)

// handleLiveEngageQuery answers the GraphQL method of the
// LiveEngage-compatible API (SPEC §10).
func (s *Server) handleLiveEngageQuery(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	ans, err := s.le.Query(r.Context(), p, r.PathValue("accountId"), r.Body, r.Header.Get("Content-Type"))
	if err != nil {
		s.liveEngageError(w, r, err)
		return
	}
	if ans.Total != nil {
		w.Header().Set("X-Total-Count", strconv.Itoa(*ans.Total))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if _, err := ans.WriteTo(w); err != nil && r.Context().Err() == nil {
		s.logger.Warn("LiveEngage answer cut short", logError, err.Error())
	}
}

// handleLiveEngageExport streams its CSV export, in one of the account's
// export slots, which the native exports share.
func (s *Server) handleLiveEngageExport(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	account := r.PathValue("accountId")
	exp, err := s.le.Export(p, account, r.URL.Query())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	release, err := s.svc.AcquireExportSlot(account)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	defer release()
	total, err := exp.Count(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	SetDownloadHeaders(w, exp.ContentType, exp.Filename)
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	out := export.NewIdleWriter(w, http.NewResponseController(w), s.svc.ExportIdleTimeout())
	n, err := exp.WriteTo(r.Context(), out, func() { out.Flush() })
	if err == nil {
		err = out.Close()
	}
	if err != nil {
		s.abortExport(r, account, n, err, out)
	}
}

// liveEngageError answers a refused LiveEngage request: a GraphQL request
// that cannot be answered in GraphQL's error shape, anything else in the
// native error body; the status, either way, from the one table.
func (s *Server) liveEngageError(w http.ResponseWriter, r *http.Request, err error) {
	var qe *liveengage.QueryError
	if errors.As(err, &qe) {
		writeJSON(w, ErrorStatusCode(audittrail.ErrorCode(err)), qe)
		return
	}
	s.Error(w, r, err)
}
