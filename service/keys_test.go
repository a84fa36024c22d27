package service_test

import (
	"context"
	"strings"
	"testing"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/service"
)

// TestPublisherKeyName checks SPEC §5: a key's name is 1 to 64 characters of
// ASCII letters, digits, space, '.', '_' and '-', and never the service's
// own source in any spelling.
func TestPublisherKeyName(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	for _, name := range []string{"crm", "CRM platform", "billing-v2.1_eu", "a", strings.Repeat("k", 64), "audittrail2", "not audittrail"} {
		if _, err := svc.CreatePublisherKey(ctx, service.Local(), "acme", name); err != nil {
			t.Errorf("name %q: got %v, want nil", name, err)
		}
	}
	for _, name := range []string{"", "   ", strings.Repeat("k", 65), "audittrail", "AuditTrail", " AUDITTRAIL ", "Audit Trail", "audit-trail",
		"audit_trail", "audit.trail", "\u0430udittrail", "audit\u200btrail", "audittrail\u200b", "\ufeffaudittrail", "ａｕｄｉｔｔｒａｉｌ",
		"crm\u202e", "tab\there", "new\nline", "caf\u00e9", "slash/name", "quote\"", "émoji 🙂"} {
		_, err := svc.CreatePublisherKey(ctx, service.Local(), "acme", name)
		if code := audittrail.ErrorCode(err); code != audittrail.EVALIDATION {
			t.Errorf("name %q: got %v, want %s", name, err, audittrail.EVALIDATION)
		}
	}
}
