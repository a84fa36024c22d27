package liveengage

import (
	"strings"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/service"
)

// Paths of the two methods, as the route table of package http mounts them.
const (
	QueryPattern  = "POST /api/account/{accountId}/configuration/metadata/audit"
	ExportPattern = "GET /api/account/{accountId}/configuration/metadata/audit/export"
)

// Handler answers the LiveEngage-compatible audit trail methods (SPEC
// §10) over the service: it reads their arguments, maps them onto a
// RecordFilter and shapes the records as LiveEngage does. Authorization,
// the retention window and the records themselves come from the service;
// HTTP (credentials, statuses, error bodies) from package http.
type Handler struct {
	svc *service.Service

	// byComponent maps a lowercased component type name or catalog key to
	// the catalog's object type.
	byComponent map[string]*audittrail.ObjectType
}

// New returns the handler of the two methods over svc.
func New(svc *service.Service) *Handler {
	h := &Handler{svc: svc, byComponent: map[string]*audittrail.ObjectType{}}
	for _, t := range svc.Catalog().Types() {
		h.byComponent[strings.ToLower(t.Key)] = t
	}
	for _, t := range svc.Catalog().Types() {
		h.byComponent[strings.ToLower(t.ComponentType)] = t
	}
	return h
}

// authorize applies the rule of the native read routes to p reading the
// account of the path (service.Authorize: 404 for another account, 403
// without audit_trail.view, 403 for the operator), after the one check
// LiveEngage answers its own way: an accountId that cannot be an account
// id is EINVALIDPARAMETER (400). An unauthenticated caller (nil) gets
// EUNAUTHENTICATED first, whatever the id.
func authorize(p *audittrail.Principal, accountID string) error {
	if p != nil && audittrail.ValidateAccountID(accountID) != nil {
		return audittrail.Errorf(audittrail.EINVALIDPARAMETER, "accountId %q is not a valid account id: 2 to 63 characters of a-z, 0-9 and '-'", audittrail.Clip(accountID))
	}
	return service.Authorize(p, service.Viewer, accountID)
}
