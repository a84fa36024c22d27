package http

import (
	"net/http"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/service"
)

type accountWithAdmin struct {
	*audittrail.Account
	Admin *audittrail.User `json:"admin"`
}

func (s *Server) handleCreateAccount(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	var in service.AccountInput
	if err := decodeJSON(r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	acct, admin, err := s.svc.CreateAccount(r.Context(), p, in)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, accountWithAdmin{acct, admin})
}

func (s *Server) handleGetAccount(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	acct, err := s.svc.FindAccount(r.Context(), p, r.PathValue("account"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, acct)
}

func (s *Server) handlePatchAccount(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	var upd audittrail.AccountUpdate
	if err := decodeJSON(r, &upd); err != nil {
		s.Error(w, r, err)
		return
	}
	acct, err := s.svc.UpdateAccount(r.Context(), p, r.PathValue("account"), upd)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, acct)
}
