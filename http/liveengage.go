package http

import (
	"net/http"

	"github.com/audittrail/audittrail"
)

// handleLiveEngageQuery answers the GraphQL method of the
// LiveEngage-compatible API (SPEC §10).
func (s *Server) handleLiveEngageQuery(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	s.le.Query(w, r, p)
}

// handleLiveEngageExport answers its CSV export.
func (s *Server) handleLiveEngageExport(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	s.le.Export(w, r, p)
}
