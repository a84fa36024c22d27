package http

import (
	"net"
	"net/http"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
	"github.com/audittrail/audittrail/service"
)

// SetOrigin notes on p where r came from, its peer's address and its user
// agent, for the access log (SPEC §11).
func SetOrigin(p *audittrail.Principal, r *http.Request) {
	if p == nil {
		return
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	p.IP, p.UserAgent = host, r.UserAgent()
}

// readActions names the access log's action of each route that reads an
// account's trail: a request the guard refuses on such a route is logged
// as a failed read (SPEC §11). The access log's own routes are not.
var readActions = map[string]string{
	"GET /api/v1/accounts/{account}/records":               audittrail.AccessList,
	"GET /api/v1/accounts/{account}/records/count":         audittrail.AccessCount,
	"GET /api/v1/accounts/{account}/records/export.xlsx":   audittrail.AccessExport,
	"GET /api/v1/accounts/{account}/records/export.csv":    audittrail.AccessExport,
	"GET /api/v1/accounts/{account}/records/export.ndjson": audittrail.AccessExport,
	"GET /api/v1/accounts/{account}/records/{id}":          audittrail.AccessGet,
	"GET /api/v1/accounts/{account}/checkpoint":            audittrail.AccessCheckpoint,
	"GET /api/v1/accounts/{account}/records/{id}/proof":    audittrail.AccessProof,
	"GET /api/v1/accounts/{account}/consistency":           audittrail.AccessProof,
}

// refuseRead answers a read of the trail refused before the service's
// operation ran (its query could not be read), logged as such.
func (s *Server) refuseRead(w http.ResponseWriter, r *http.Request, p *audittrail.Principal, format string, err error) {
	s.Error(w, r, s.svc.RefuseRead(r.Context(), p, r.PathValue("account"), readActions[r.Pattern], format, r.URL.Query(), err))
}

// accessPageJSON is a page of the access log as the API shows it.
type accessPageJSON struct {
	Entries    []*audittrail.AccessEntry `json:"entries"`
	NextCursor *string                   `json:"next_cursor"`
}

func (s *Server) handleListAccess(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	f, err := service.ParseAccessFilter(r.URL.Query(), r.PathValue("account"), true)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	page, err := s.svc.FindAccessEntries(r.Context(), p, f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	body := accessPageJSON{Entries: page.Entries}
	if page.Next != nil {
		c := page.Next.String()
		body.NextCursor = &c
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) handleExportAccess(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	f, err := service.ParseAccessFilter(r.URL.Query(), r.PathValue("account"), false)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	exp, err := s.svc.OpenAccessExport(r.Context(), p, f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	SetDownloadHeaders(w, "text/csv; charset=utf-8", exp.Filename)
	out := export.NewIdleWriter(w, http.NewResponseController(w), s.svc.ExportIdleTimeout())
	err = exp.WriteTo(r.Context(), out)
	if err == nil {
		err = out.Close()
	}
	if err != nil {
		s.abortExport(r, f.AccountID, 0, err, out)
	}
}
