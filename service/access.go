package service

import "github.com/audittrail/audittrail"

// Access says who may perform an operation.
type Access int

const (
	// Public operations need no credential.
	Public Access = iota
	// Authenticated operations need any valid credential.
	Authenticated
	// Operator operations need the operator token.
	Operator
	// AnyUser operations need a user token.
	AnyUser
	// Administrator operations need a user of the account whose profile
	// has the administrator role.
	Administrator
	// Viewer operations need a user of the account whose profile holds
	// audit_trail.view.
	Viewer
	// Publisher operations need a publisher key of the account.
	Publisher
)

func (a Access) String() string {
	return [...]string{"public", "authenticated", "operator", "user", "administrator", "viewer", "publisher"}[a]
}

// Authorize applies the access rule a to p acting on account (""
// for an operation that names no account). A credential of one account
// acting on another gets ENOTFOUND, as if the account did not exist; one
// that lacks the right gets EFORBIDDEN, naming what is needed. The local
// principal (the CLI, which has the storage open) may do anything. Every
// operation of the service calls it first.
func Authorize(p *audittrail.Principal, a Access, account string) error {
	if a == Public {
		return nil
	}
	if p == nil {
		return audittrail.Errorf(audittrail.EUNAUTHENTICATED, "send a credential: Authorization: Bearer <token or key>")
	}
	if p.Kind == audittrail.PrincipalLocal {
		return nil
	}
	if account != "" && p.Kind != audittrail.PrincipalOperator && p.AccountID != account {
		return audittrail.Errorf(audittrail.ENOTFOUND, "account %s not found", audittrail.Clip(account))
	}
	var ok bool
	var need string
	switch a {
	case Authenticated:
		ok = true
	case Operator:
		ok, need = p.Kind == audittrail.PrincipalOperator, "the operator token"
	case AnyUser:
		ok, need = p.Kind == audittrail.PrincipalUser, "a user token"
	case Administrator:
		ok, need = p.IsAdministrator(), "a user whose profile has the administrator role"
	case Viewer:
		ok, need = p.Can(audittrail.PermissionViewAuditTrail), "a user whose profile holds the audit_trail.view permission (an administrator grants it in Profiles)"
	case Publisher:
		ok, need = p.Kind == audittrail.PrincipalPublisher, "a publisher key of the account (an administrator creates one in Publisher keys)"
	}
	if !ok {
		return audittrail.Errorf(audittrail.EFORBIDDEN, "this request needs %s", need)
	}
	return nil
}

// Local returns the principal of a command run beside the storage (the
// CLI).
func Local() *audittrail.Principal { return &audittrail.Principal{Kind: audittrail.PrincipalLocal} }
