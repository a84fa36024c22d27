package http

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/audittrail/audittrail"
)

type loginRequest struct {
	AccountID string `json:"account_id"`
	LoginName string `json:"login_name"`
	Password  string `json:"password"`
}

// errBadLogin is the one answer to every failed login, so that a caller
// learns nothing about which part was wrong or whether the account exists.
func errBadLogin() error {
	return audittrail.Errorf(audittrail.EUNAUTHENTICATED, "the account, login name or password is wrong")
}

// login checks a user's password and issues a token. Logins are not
// recorded in the audit trail.
func (s *Server) login(r *http.Request, req loginRequest) (string, *audittrail.Token, error) {
	if req.AccountID == "" || req.LoginName == "" || req.Password == "" || len(req.Password) > 1024 || len(req.LoginName) > 512 {
		return "", nil, errBadLogin()
	}
	key := throttleKey(req.AccountID, req.LoginName)
	if wait := s.throttle.wait(key, s.Now()); wait > 0 {
		return "", nil, &throttled{wait}
	}
	secret, t, err := s.checkLogin(r, req)
	if audittrail.ErrorCode(err) == audittrail.EUNAUTHENTICATED {
		s.throttle.fail(key, s.Now())
	} else if err == nil {
		s.throttle.succeed(key)
	}
	return secret, t, err
}

// throttled is the error of a login refused for too many failures.
type throttled struct{ wait time.Duration }

func (e *throttled) Error() string { return "too many failed logins" }

// checkLogin checks the password and issues the token.
func (s *Server) checkLogin(r *http.Request, req loginRequest) (string, *audittrail.Token, error) {
	u, err := s.Store.FindUserByLogin(r.Context(), req.AccountID, req.LoginName)
	if audittrail.ErrorCode(err) == audittrail.ENOTFOUND {
		audittrail.CheckPassword(dummyHash, req.Password) // spend the same time as a real check
		return "", nil, errBadLogin()
	} else if err != nil {
		return "", nil, err
	}
	if !audittrail.CheckPassword(u.PasswordHash, req.Password) || !u.Enabled {
		return "", nil, errBadLogin()
	}
	secret := audittrail.NewSecret("att_")
	now := audittrail.TruncateTime(s.Now())
	t := &audittrail.Token{Hash: audittrail.HashSecret(secret), AccountID: u.AccountID, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.TokenTTL)}
	if err := s.Store.CreateToken(r.Context(), t); err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

var dummyHash = audittrail.HashPassword("not a real password")

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	var req loginRequest
	if err := decodeJSON(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	secret, t, err := s.login(r, req)
	var th *throttled
	if errors.As(err, &th) {
		secs := int(math.Ceil(th.wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.Error(w, r, audittrail.Errorf(audittrail.ETOOMANYREQUESTS, "too many failed logins for this login name; try again in %d seconds", secs))
		return
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": secret, "expires_at": audittrail.FormatTime(t.ExpiresAt)})
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	token, _ := bearerToken(r)
	if err := s.Store.DeleteToken(r.Context(), audittrail.HashSecret(token)); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
