package http

import (
	"net/http"

	"github.com/audittrail/audittrail"
)

func (s *Server) handleListPublisherKeys(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	keys, err := s.Store.FindPublisherKeys(r.Context(), r.PathValue("account"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"publisher_keys": keys})
}

func (s *Server) handleCreatePublisherKey(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := requireText("name", req.Name, 128); err != nil {
		s.Error(w, r, err)
		return
	}
	k, secret := audittrail.NewPublisherKey(r.PathValue("account"), req.Name, s.Now())
	if err := s.Store.CreatePublisherKey(r.Context(), k, audittrail.HashSecret(secret)); err != nil {
		s.Error(w, r, err)
		return
	}
	k.Key = secret
	writeJSON(w, http.StatusCreated, k)
}

func (s *Server) handleRevokePublisherKey(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	if _, err := s.Store.RevokePublisherKey(r.Context(), r.PathValue("account"), r.PathValue("id")); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
