package e2e

import "testing"

// TestServiceTypesReserved checks SPEC §4 "The service's own object
// types": a publisher cannot write records that pass for the service's own
// (publisher_keys, account_settings, destinations, audit_trail, or an
// originator with auth_type audittrail), on either ingestion route, and
// nothing of the batch is stored.
func TestServiceTypesReserved(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "reserved", true)
	forged := map[string]any{"id": "usr_1", "name": "Ada Admin", "login_name": "admin", "auth_type": "audittrail"}

	for _, typ := range []string{"publisher_keys", "account_settings", "destinations", "audit_trail", "Account_Settings"} {
		t.Run("ErrType/"+typ, func(t *testing.T) {
			e := MustError(t, srv.PostRecords(t, a, rec(), rec("object_type", typ)), 422, "reserved_object_type")
			MustDetails(t, e, Detail{1, "object_type"})
			e = MustError(t, srv.PostChanges(t, a, chg("object_type", typ)), 422, "reserved_object_type")
			MustDetails(t, e, Detail{0, "object_type"})
		})
	}
	t.Run("ErrServiceOriginator", func(t *testing.T) {
		for _, auth := range []string{"audittrail", " AuditTrail "} {
			o := map[string]any{"name": "Ada Admin", "auth_type": auth}
			e := MustError(t, srv.PostRecords(t, a, rec("originator", o)), 422, "validation_failed")
			MustDetails(t, e, Detail{0, "originator.auth_type"})
			e = MustError(t, srv.PostChanges(t, a, chg("object_type", "skills", "originator", forged)), 422, "validation_failed")
			MustDetails(t, e, Detail{0, "originator.auth_type"})
		}
	})
	t.Run("NothingStored", func(t *testing.T) {
		if n := srv.Count(t, a, vals("object_type", "users", "originator", "Olivia Admin")); n != 0 {
			t.Errorf("records of the refused batches: got %d, want 0", n)
		}
	})
	t.Run("OKOtherAuthTypes", func(t *testing.T) {
		srv.MustRecords(t, a, rec("originator", map[string]any{"name": "Olivia", "auth_type": "sso"}))
	})
}
