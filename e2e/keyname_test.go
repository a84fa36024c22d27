package e2e

import (
	"strings"
	"testing"
)

// TestPublisherKeyNames checks SPEC §5: a key's name, the source of every
// record written with it, is 1 to 64 characters of ASCII letters, digits,
// space, '.', '_' and '-', and never audittrail in any case, so that no
// key passes for the service — not with a Cyrillic а, a zero-width space,
// a control character, or an accent.
func TestPublisherKeyNames(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "keynames", true)
	for _, name := range []string{
		"audittrail", "AuditTrail", " audittrail ", "\u0430udittrail", "audit\u200btrail", "audittrail\u200b",
		"tab\there", "new\nline", "café", "emoji 😀", strings.Repeat("k", 65), "", "   ",
	} {
		MustError(t, srv.Do(t, "POST", a.path("/publisher-keys"), a.AdminToken, map[string]string{"name": name}), 422, "validation_failed")
	}
	for _, name := range []string{"CRM", "Production platform", "crm-eu_2.v1", strings.Repeat("k", 64), "audittrail-crm"} {
		srv.Must(t, 201, "POST", a.path("/publisher-keys"), a.AdminToken, map[string]string{"name": name})
	}
}
