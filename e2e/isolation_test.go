package e2e

import (
	"strings"
	"testing"
)

// TestIsolation checks that a credential of one account never reads,
// writes or learns the existence of another account's data: every route
// of the other account answers 404 not_found, exactly as for an account
// that does not exist (SPEC §4).
func TestIsolation(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "tenant-a", true)
	b := srv.MustAccount(t, "tenant-b", true)
	recA := srv.MustRecords(t, a, rec("object_name", "Secret of A"))[0]
	recB := srv.MustRecords(t, b, rec("object_name", "Secret of B"))[0]
	srv.MustChanges(t, b, chg())

	// The ids of B's things, so that requests name things that exist.
	keysB := srv.Must(t, 200, "GET", b.path("/publisher-keys"), b.AdminToken, nil).JSON(t)["publisher_keys"].([]any)
	keyB := keysB[0].(map[string]any)["id"].(string)
	userB, profileB := "usr_unknown", "prf_unknown"
	if r := srv.Do(t, "GET", b.path("/users"), b.AdminToken, nil); r.Status == 200 {
		if us, _ := r.JSON(t)["users"].([]any); len(us) > 0 {
			userB = us[0].(map[string]any)["id"].(string)
		}
	}
	if r := srv.Do(t, "GET", b.path("/profiles"), b.AdminToken, nil); r.Status == 200 {
		if ps, _ := r.JSON(t)["profiles"].([]any); len(ps) > 0 {
			profileB = ps[len(ps)-1].(map[string]any)["id"].(string)
		}
	}
	beforeB := srv.Count(t, b, nil)
	accountB := srv.Must(t, 200, "GET", b.path(""), b.AdminToken, nil).Body

	// Every route of the route table that names an account.
	routes := []struct {
		method, path string
		body         any
	}{
		{"GET", "", nil},
		{"PATCH", "", map[string]any{"name": "Taken over", "audit_trail_enabled": false}},
		{"GET", "/publisher-keys", nil},
		{"POST", "/publisher-keys", map[string]any{"name": "intruder"}},
		{"DELETE", "/publisher-keys/" + keyB, nil},
		{"POST", "/records", records(rec())},
		{"POST", "/changes", changes(chg())},
		{"GET", "/records", nil},
		{"GET", "/records?q=secret", nil},
		{"GET", "/records/count", nil},
		{"GET", "/records/" + recB.ID, nil},
		{"GET", "/users", nil},
		{"POST", "/users", map[string]any{"login_name": "intruder", "name": "Intruder", "password": "correct horse battery", "profile_id": profileB}},
		{"GET", "/users/" + userB, nil},
		{"PATCH", "/users/" + userB, map[string]any{"password": "taken over at last"}},
		{"DELETE", "/users/" + userB, nil},
		{"GET", "/profiles", nil},
		{"POST", "/profiles", map[string]any{"name": "Intruders", "role": "administrator", "permissions": []string{"audit_trail.view"}}},
		{"GET", "/profiles/" + profileB, nil},
		{"PATCH", "/profiles/" + profileB, map[string]any{"name": "Renamed"}},
		{"DELETE", "/profiles/" + profileB, nil},
	}
	creds := map[string]string{"admin token": a.AdminToken, "publisher key": a.Key}

	t.Run("ErrNotFound", func(t *testing.T) {
		for credName, cred := range creds {
			for _, rt := range routes {
				var msgs []string
				for _, target := range []string{b.ID, "no-such-tenant"} {
					path := "/api/v1/accounts/" + target + rt.path
					r := srv.Do(t, rt.method, path, cred, rt.body)
					if r.Status != 404 {
						t.Errorf("%s %s with A's %s: got status %d, want 404: %s", rt.method, path, credName, r.Status, r.Body)
						continue
					}
					e := MustError(t, r, 404, "not_found")
					msgs = append(msgs, strings.ReplaceAll(e.Message, target, "ACCOUNT"))
					if strings.Contains(string(r.Body), "Secret of B") {
						t.Errorf("%s %s with A's %s: the answer holds B's data: %s", rt.method, path, credName, r.Body)
					}
				}
				if len(msgs) == 2 && msgs[0] != msgs[1] {
					t.Errorf("%s %s with A's %s: got %q for B and %q for no account, want the same answer", rt.method, rt.path, credName, msgs[0], msgs[1])
				}
			}
		}
	})

	t.Run("ErrNotFoundThroughOwnAccount", func(t *testing.T) {
		// B's record and key asked through A's own paths do not exist.
		MustError(t, srv.Do(t, "GET", a.path("/records/"+recB.ID), a.AdminToken, nil), 404, "not_found")
		MustError(t, srv.Do(t, "DELETE", a.path("/publisher-keys/"+keyB), a.AdminToken, nil), 404, "not_found")
		MustError(t, srv.Do(t, "GET", a.path("/users/"+userB), a.AdminToken, nil), 404, "not_found")
		MustError(t, srv.Do(t, "PATCH", a.path("/users/"+userB), a.AdminToken, map[string]any{"name": "x"}), 404, "not_found")
		MustError(t, srv.Do(t, "DELETE", a.path("/profiles/"+profileB), a.AdminToken, nil), 404, "not_found")
		// And A's record is not B's.
		MustError(t, srv.Do(t, "GET", b.path("/records/"+recA.ID), b.AdminToken, nil), 404, "not_found")
	})

	t.Run("OKOwnIdsAndSeqs", func(t *testing.T) {
		// Idempotency ids and seqs are per account: B's use of an id says
		// nothing to A, and A's writes do not move B's seqs.
		ra := srv.MustRecords(t, a, rec("id", "shared-id", "object_name", "A's"))
		rb := srv.MustRecords(t, b, rec("id", "shared-id", "object_name", "B's"))
		if ra[0].ID == rb[0].ID || rb[0].ObjectName != "B's" {
			t.Errorf("same id in two accounts: got %+v and %+v, want two records", ra[0], rb[0])
		}
		rc := srv.MustChanges(t, a, chg("id", "shared-change"))
		rd := srv.MustChanges(t, b, chg("id", "shared-change", "object_name", "Other"))
		if rc[0].ID == rd[0].ID {
			t.Errorf("same change id in two accounts: got one record, want two")
		}
		nb := srv.Count(t, b, nil)
		srv.MustRecords(t, a, rec(), rec(), rec())
		if got := srv.MustRecords(t, b, rec())[0].Seq; got != int64(nb) {
			t.Errorf("B's next seq: got %v, want %v", got, nb)
		}
		beforeB = srv.Count(t, b, nil)
	})

	t.Run("OKUntouched", func(t *testing.T) {
		if got := srv.Count(t, b, nil); got != beforeB {
			t.Errorf("B's count: got %v, want %v", got, beforeB)
		}
		if got := srv.Must(t, 200, "GET", b.path(""), b.AdminToken, nil).Body; string(got) != string(accountB) {
			t.Errorf("B's account: got %s, want %s", got, accountB)
		}
		// B's key still works, and B's administrator still signs in.
		srv.MustRecords(t, b, rec())
		srv.Must(t, 200, "POST", "/api/v1/login", "", map[string]string{"account_id": b.ID, "login_name": "admin", "password": "correct horse battery"})
		for _, r := range srv.ListAll(t, a, vals("limit", "1000")) {
			if r.ObjectName == "Secret of B" {
				t.Errorf("A's records: got B's record %s", r.ID)
			}
		}
		if got := srv.Count(t, a, vals("q", "secret of b")); got != 0 {
			t.Errorf("A's count of B's record: got %v, want %v", got, 0)
		}
	})
}
