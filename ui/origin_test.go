package ui_test

import (
	"net/http"
	"net/url"
	"testing"
)

// TestLoginCSRFOrigin checks issue 14 item 8: a sign-in form or a page's
// form sent from another site is refused by its Origin or Sec-Fetch-Site,
// even with a valid CSRF pair; under TLS the cookies carry the __Host-
// prefix, which another site cannot plant.
func TestLoginCSRFOrigin(t *testing.T) {
	f := MustFixture(t, false)
	login := url.Values{"account_id": {"acme"}, "login_name": {"admin"}, "password": {adminPassword}}
	for name, h := range map[string]http.Header{
		"ForeignOrigin": {"Origin": {"https://evil.example"}},
		"CrossSite":     {"Sec-Fetch-Site": {"cross-site"}},
		"SameSite":      {"Sec-Fetch-Site": {"same-site"}},
	} {
		t.Run("Err"+name, func(t *testing.T) {
			b := f.Browser(t)
			form := url.Values{"csrf": {b.Get("/login").CSRF(t)}}
			for k, v := range login {
				form[k] = v
			}
			b.header = h
			if p := b.Post("/login", form); p.Status != http.StatusForbidden {
				t.Errorf("sign-in with %v: got %d, want 403", h, p.Status)
			}
		})
	}
	t.Run("OKOwnOrigin", func(t *testing.T) {
		b := f.Browser(t)
		form := url.Values{"csrf": {b.Get("/login").CSRF(t)}}
		for k, v := range login {
			form[k] = v
		}
		u, _ := url.Parse(f.URL)
		b.header = http.Header{"Origin": {"http://" + u.Host}, "Sec-Fetch-Site": {"same-origin"}}
		if p := b.Post("/login", form); p.Status != http.StatusSeeOther {
			t.Errorf("sign-in from the own origin: got %d, want 303", p.Status)
		}
	})
	t.Run("ErrPageFormFromElsewhere", func(t *testing.T) {
		b := f.Browser(t)
		b.MustLogin("admin", adminPassword)
		csrf := b.Get("/publisher-keys").CSRF(t)
		b.header = http.Header{"Sec-Fetch-Site": {"cross-site"}}
		if p := b.Post("/publisher-keys", url.Values{"csrf": {csrf}, "name": {"planted"}}); p.Status != http.StatusForbidden {
			t.Errorf("a page's form from another site: got %d, want 403", p.Status)
		}
	})
	t.Run("ErrPlantedCookieUnderTLS", func(t *testing.T) {
		tf := MustFixture(t, true)
		b := tf.Browser(t)
		u, _ := url.Parse(tf.URL)
		// Another site can set a cookie without the prefix (a sibling
		// subdomain); the service reads only the __Host- one.
		b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "audittrail_login", Value: "planted-planted-planted-planted-planted-pla", Path: "/"}})
		form := url.Values{"csrf": {"planted-planted-planted-planted-planted-pla"}}
		for k, v := range login {
			form[k] = v
		}
		if p := b.Post("/login", form); p.Status != http.StatusForbidden {
			t.Errorf("sign-in with a planted CSRF cookie: got %d, want 403", p.Status)
		}
	})
}
