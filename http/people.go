package http

import (
	"net/http"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/service"
)

func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	users, err := s.svc.FindUsers(r.Context(), p, r.PathValue("account"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": users})
}

func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	u, err := s.svc.FindUser(r.Context(), p, r.PathValue("account"), r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	var in service.UserInput
	if err := decodeJSON(r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	u, err := s.svc.CreateUser(r.Context(), p, r.PathValue("account"), in)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, u)
}

func (s *Server) handlePatchUser(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	var in service.UserInput
	if err := decodeJSON(r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	u, err := s.svc.UpdateUser(r.Context(), p, r.PathValue("account"), r.PathValue("id"), in)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) handleDeleteUser(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	if err := s.svc.DeleteUser(r.Context(), p, r.PathValue("account"), r.PathValue("id")); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleListProfiles(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	ps, err := s.svc.FindProfiles(r.Context(), p, r.PathValue("account"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"profiles": ps})
}

func (s *Server) handleGetProfile(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	prof, err := s.svc.FindProfile(r.Context(), p, r.PathValue("account"), r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, prof)
}

func (s *Server) handleCreateProfile(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	var in service.ProfileInput
	if err := decodeJSON(r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	prof, err := s.svc.CreateProfile(r.Context(), p, r.PathValue("account"), in)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, prof)
}

func (s *Server) handlePatchProfile(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	var in service.ProfileInput
	if err := decodeJSON(r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	prof, err := s.svc.UpdateProfile(r.Context(), p, r.PathValue("account"), r.PathValue("id"), in)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, prof)
}

func (s *Server) handleDeleteProfile(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	if err := s.svc.DeleteProfile(r.Context(), p, r.PathValue("account"), r.PathValue("id")); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
