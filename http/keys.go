package http

import (
	"net/http"
	"strings"

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

func (s *Server) handleCreatePublisherKey(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	if strings.EqualFold(strings.TrimSpace(req.Name), audittrail.SourceService) {
		s.Error(w, r, audittrail.Errorf(audittrail.EVALIDATION, "the name %q is reserved for the records the service writes itself; choose another", audittrail.SourceService))
		return
	}
	if err := requireText("name", req.Name, 128); err != nil {
		s.Error(w, r, err)
		return
	}
	k, secret := audittrail.NewPublisherKey(r.PathValue("account"), req.Name, s.Now())
	audit, err := s.Ingester.ServiceChange(k.AccountID, audittrail.TypePublisherKeys, k.ID, k.Name, nil, audittrail.PublisherKeySnapshot(k), p.Originator())
	if err == nil {
		err = s.Store.CreatePublisherKey(r.Context(), k, audittrail.HashSecret(secret), audit...)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	k.Key = secret
	writeJSON(w, http.StatusCreated, k)
}

func (s *Server) handleRevokePublisherKey(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	before, err := s.findPublisherKey(r, r.PathValue("account"), r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	after := *before
	if after.RevokedAt == nil {
		now := s.Now()
		after.RevokedAt = &now
	}
	audit, err := s.Ingester.ServiceChange(before.AccountID, audittrail.TypePublisherKeys, before.ID, before.Name,
		audittrail.PublisherKeySnapshot(before), audittrail.PublisherKeySnapshot(&after), p.Originator())
	if err == nil {
		_, err = s.Store.RevokePublisherKey(r.Context(), before.AccountID, before.ID, audit...)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// findPublisherKey returns a key of the account, or ENOTFOUND.
func (s *Server) findPublisherKey(r *http.Request, accountID, id string) (*audittrail.PublisherKey, error) {
	keys, err := s.Store.FindPublisherKeys(r.Context(), accountID)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.ID == id {
			k.AccountID = accountID
			return k, nil
		}
	}
	return nil, audittrail.Errorf(audittrail.ENOTFOUND, "publisher key %s not found", clip(id))
}
