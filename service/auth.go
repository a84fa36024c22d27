package service

import (
	"context"
	"math"
	"time"

	"github.com/audittrail/audittrail"
)

// Authenticate finds the principal behind a bearer credential: the
// operator token, a publisher key or a user token. Returns
// EUNAUTHENTICATED for an unknown, revoked or expired credential.
func (s *Service) Authenticate(ctx context.Context, credential string) (*audittrail.Principal, error) {
	return audittrail.Authenticate(ctx, s.store, s.cfg.OperatorToken, credential)
}

// Login is the outcome of a successful login: the token (shown once) and
// what it is.
type Login struct {
	Token     string
	ExpiresAt time.Time
	User      *audittrail.User
}

// LoginThrottled is the error of a login refused for too many failures:
// an ETOOMANYREQUESTS whose RetryAfter says when to try again.
type LoginThrottled struct {
	Err        *audittrail.Error
	RetryAfter time.Duration
}

func (e *LoginThrottled) Error() string { return e.Err.Error() }
func (e *LoginThrottled) Unwrap() error { return e.Err }

// errBadLogin is the one answer to every failed login, so that a caller
// learns nothing about which part was wrong or whether the account exists.
func errBadLogin() error {
	return audittrail.Errorf(audittrail.EUNAUTHENTICATED, "the account, login name or password is wrong")
}

// dummyHash is checked against when the user does not exist, so that a
// login spends the same time either way.
var dummyHash = audittrail.HashPassword("not a real password")

// Login checks a user's password and issues a token (SPEC §5). Failed
// logins are throttled per account and login name. Logins are not recorded
// in the audit trail. Returns EUNAUTHENTICATED, or *LoginThrottled.
func (s *Service) Login(ctx context.Context, accountID, loginName, password string) (*Login, error) {
	if accountID == "" || loginName == "" || password == "" || len(password) > 1024 || len(loginName) > 512 {
		return nil, errBadLogin()
	}
	key, at := throttleKey(accountID, loginName), s.now()
	if wait := s.throttle.admit(key, at); wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		return nil, &LoginThrottled{
			Err:        audittrail.Errorf(audittrail.ETOOMANYREQUESTS, "too many failed logins for this login name; try again in %d seconds", secs),
			RetryAfter: time.Duration(secs) * time.Second,
		}
	}
	l, err := s.checkLogin(ctx, accountID, loginName, password)
	switch code := audittrail.ErrorCode(err); {
	case err == nil:
		s.throttle.succeed(key)
	case code != audittrail.EUNAUTHENTICATED:
		s.throttle.refund(key, at) // no check was made
	}
	return l, err
}

// PasswordCheckWait is how long a login waits for one of the password
// checks that may run at once (SPEC §5) before it answers EUNAVAILABLE.
var PasswordCheckWait = 2 * time.Second

// checkPassword checks password against hash in one of the slots of
// s.hashing, which bound the Argon2id/bcrypt computations that run at once
// (each takes 19 MiB) to the CPUs: a login that waits longer than
// PasswordCheckWait for a slot is refused with EUNAVAILABLE and a
// Retry-After, known account or not.
func (s *Service) checkPassword(ctx context.Context, hash, password string) (bool, error) {
	t := time.NewTimer(PasswordCheckWait)
	defer t.Stop()
	select {
	case s.hashing <- struct{}{}:
	case <-t.C:
		return false, &LoginThrottled{
			Err:        audittrail.Errorf(audittrail.EUNAVAILABLE, "the service is checking too many passwords at once; try again in a second"),
			RetryAfter: time.Second,
		}
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-s.hashing }()
	return audittrail.CheckPassword(hash, password), nil
}

// checkLogin checks the password and issues the token.
func (s *Service) checkLogin(ctx context.Context, accountID, loginName, password string) (*Login, error) {
	var u *audittrail.User
	err := s.store.View(ctx, func(tx audittrail.Tx) (err error) {
		u, err = tx.FindUserByLogin(accountID, loginName)
		return err
	})
	if audittrail.ErrorCode(err) == audittrail.ENOTFOUND {
		// Spend the same time, and a slot, as a real check.
		if _, err := s.checkPassword(ctx, dummyHash, password); err != nil {
			return nil, err
		}
		return nil, errBadLogin()
	} else if err != nil {
		return nil, err
	}
	ok, err := s.checkPassword(ctx, u.PasswordHash, password)
	if err != nil {
		return nil, err
	}
	if !ok || !u.Enabled {
		return nil, errBadLogin()
	}
	secret := audittrail.NewSecret("att_")
	now := audittrail.TruncateTime(s.now())
	t := &audittrail.Token{Hash: audittrail.HashSecret(secret), AccountID: u.AccountID, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.TokenTTL)}
	err = s.store.Change(ctx, u.AccountID, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
		return nil, tx.CreateToken(t)
	})
	if err != nil {
		return nil, err
	}
	return &Login{Token: secret, ExpiresAt: t.ExpiresAt, User: u}, nil
}

// Logout ends the user token credential, which p authenticated.
func (s *Service) Logout(ctx context.Context, p *audittrail.Principal, credential string) error {
	if err := Authorize(p, AnyUser, ""); err != nil {
		return err
	}
	return s.store.Change(ctx, p.AccountID, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
		return nil, tx.DeleteToken(audittrail.HashSecret(credential))
	})
}
