package http

import (
	"net/http"

	"github.com/audittrail/audittrail"
)

func (s *Server) handleListPublisherKeys(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	keys, err := s.svc.FindPublisherKeys(r.Context(), p, r.PathValue("account"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"publisher_keys": keys})
}

func (s *Server) handleCreatePublisherKey(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	k, err := s.svc.CreatePublisherKey(r.Context(), p, r.PathValue("account"), req.Name)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, k)
}

func (s *Server) handleRevokePublisherKey(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	if err := s.svc.RevokePublisherKey(r.Context(), p, r.PathValue("account"), r.PathValue("id")); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
