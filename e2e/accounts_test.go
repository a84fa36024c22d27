package e2e

import (
	"strings"
	"testing"
)

// TestAccountSettings covers GET and PATCH /accounts/{account} and the
// publisher keys (SPEC §4–§6).
func TestAccountSettings(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "settings", false)

	t.Run("OK", func(t *testing.T) {
		v := srv.Must(t, 200, "GET", a.path(""), a.AdminToken, nil).JSON(t)
		for k, want := range map[string]any{"id": a.ID, "name": "Account settings", "timezone": "Europe/Paris", "audit_trail_enabled": false} {
			if v[k] != want {
				t.Errorf("%s: got %v, want %v", k, v[k], want)
			}
		}
		v = srv.Must(t, 200, "PATCH", a.path(""), a.AdminToken, map[string]any{"name": "Renamed", "timezone": "America/New_York"}).JSON(t)
		if v["name"] != "Renamed" || v["timezone"] != "America/New_York" || v["audit_trail_enabled"] != false {
			t.Errorf("PATCH: got %v, want the new name and timezone, the trail still off", v)
		}
		v = srv.Must(t, 200, "GET", a.path(""), a.AdminToken, nil).JSON(t)
		if v["name"] != "Renamed" || v["timezone"] != "America/New_York" {
			t.Errorf("GET after PATCH: got %v, want the new name and timezone", v)
		}
	})

	t.Run("ErrValidationFailed", func(t *testing.T) {
		MustError(t, srv.Do(t, "PATCH", a.path(""), a.AdminToken, map[string]any{"timezone": "Mars/Olympus"}), 422, "validation_failed")
		MustError(t, srv.Do(t, "PATCH", a.path(""), a.AdminToken, map[string]any{"name": "  "}), 422, "validation_failed")
	})

	t.Run("ErrInvalidJSON", func(t *testing.T) {
		e := MustError(t, srv.Do(t, "PATCH", a.path(""), a.AdminToken, map[string]any{"audit_trail": true}), 400, "invalid_json")
		if !strings.Contains(e.Message, "audit_trail") {
			t.Errorf("message: got %q, want it to name the field", e.Message)
		}
		MustError(t, srv.Do(t, "PATCH", a.path(""), a.AdminToken, map[string]any{"audit_trail_enabled": "yes"}), 400, "invalid_json")
	})

	t.Run("OKPublisherKeys", func(t *testing.T) {
		k := srv.Must(t, 201, "POST", a.path("/publisher-keys"), a.AdminToken, map[string]string{"name": "crm"}).JSON(t)
		id, secret := k["id"].(string), k["key"].(string)
		if id == "" || secret == "" || k["name"] != "crm" {
			t.Fatalf("created key: got %v, want id, name crm and the key", k)
		}
		list := srv.Must(t, 200, "GET", a.path("/publisher-keys"), a.AdminToken, nil)
		if strings.Contains(string(list.Body), secret) {
			t.Errorf("list: got the secret of a key, want it shown once only")
		}
		keys := list.JSON(t)["publisher_keys"].([]any)
		if len(keys) != 2 {
			t.Errorf("keys: got %v, want %v", len(keys), 2)
		}
		srv.Must(t, 204, "DELETE", a.path("/publisher-keys/"+id), a.AdminToken, nil)
		MustError(t, srv.Do(t, "POST", a.path("/records"), secret, records(rec())), 401, "unauthenticated")
		for _, kk := range srv.Must(t, 200, "GET", a.path("/publisher-keys"), a.AdminToken, nil).JSON(t)["publisher_keys"].([]any) {
			m := kk.(map[string]any)
			if m["id"] == id && m["revoked_at"] == nil {
				t.Errorf("revoked key: got revoked_at null, want the time")
			}
		}
		MustError(t, srv.Do(t, "POST", a.path("/publisher-keys"), a.AdminToken, map[string]string{"name": ""}), 422, "validation_failed")
	})
}
