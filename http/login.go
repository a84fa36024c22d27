package http

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/service"
)

type loginRequest struct {
	AccountID string `json:"account_id"`
	LoginName string `json:"login_name"`
	Password  string `json:"password"`
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	var req loginRequest
	if err := decodeJSON(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	l, err := s.svc.Login(r.Context(), req.AccountID, req.LoginName, req.Password)
	var th *service.LoginThrottled
	if errors.As(err, &th) {
		w.Header().Set("Retry-After", strconv.Itoa(int(th.RetryAfter.Seconds())))
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": l.Token, "expires_at": audittrail.FormatTime(l.ExpiresAt)})
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	token, _ := bearerToken(r)
	if err := s.svc.Logout(r.Context(), p, token); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
