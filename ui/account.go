package ui

import (
	"net/http"
	"slices"
	"strings"

	"github.com/audittrail/audittrail"
)

// ---- Publisher keys

type keysPage struct {
	Keys   []keyRow
	NewKey *audittrail.PublisherKey // just created: the only time its secret is shown
	Name   string                   // the name typed in the form
}

type keyRow struct {
	K       *audittrail.PublisherKey
	Created string
	Revoked string
}

func (h *Handler) handlePublisherKeys(w http.ResponseWriter, r *http.Request, s *session) {
	h.renderKeys(w, r, s, h.withNotice(r, h.newView(s, "Publisher keys", "publisher-keys")), http.StatusOK, keysPage{})
}

func (h *Handler) renderKeys(w http.ResponseWriter, r *http.Request, s *session, v *view, status int, page keysPage) {
	keys, err := h.svc.FindPublisherKeys(r.Context(), s.Principal, s.Account.ID)
	if err != nil {
		if st, ok := h.failure(w, r, err, v); ok {
			v.Page = page
			h.render(w, r, st, "publisher_keys", v)
		}
		return
	}
	// Active keys first, newest first within each group.
	slices.SortStableFunc(keys, func(a, b *audittrail.PublisherKey) int {
		if (a.RevokedAt == nil) != (b.RevokedAt == nil) {
			if a.RevokedAt == nil {
				return -1
			}
			return 1
		}
		return b.CreatedAt.Compare(a.CreatedAt)
	})
	for _, k := range keys {
		row := keyRow{K: k, Created: k.CreatedAt.In(s.Loc).Format("2006-01-02 15:04")}
		if k.RevokedAt != nil {
			row.Revoked = k.RevokedAt.In(s.Loc).Format("2006-01-02 15:04")
		}
		page.Keys = append(page.Keys, row)
	}
	v.Page = page
	h.render(w, r, status, "publisher_keys", v)
}

func (h *Handler) handleCreatePublisherKey(w http.ResponseWriter, r *http.Request, s *session) {
	name := strings.TrimSpace(r.PostForm.Get("name"))
	v := h.newView(s, "Publisher keys", "publisher-keys")
	k, err := h.svc.CreatePublisherKey(r.Context(), s.Principal, s.Account.ID, name)
	if err != nil {
		if st, ok := h.failure(w, r, err, v); ok {
			h.renderKeys(w, r, s, v, st, keysPage{Name: name})
		}
		return
	}
	// Not a redirect: the secret exists only in this answer.
	h.renderKeys(w, r, s, v, http.StatusCreated, keysPage{NewKey: k})
}

func (h *Handler) handleRevokePublisherKey(w http.ResponseWriter, r *http.Request, s *session) {
	v := h.newView(s, "Publisher keys", "publisher-keys")
	if err := h.svc.RevokePublisherKey(r.Context(), s.Principal, s.Account.ID, r.PathValue("id")); err != nil {
		if st, ok := h.failure(w, r, err, v); ok {
			h.renderKeys(w, r, s, v, st, keysPage{})
		}
		return
	}
	http.Redirect(w, r, "/publisher-keys?done=key-revoked", http.StatusSeeOther)
}

// ---- Settings

type settingsPage struct {
	A         audittrail.Account
	Timezones []option
	EnabledAt string
}

// handleSettings draws the account as the session read it
// (service.FindAccount, for this request).
func (h *Handler) handleSettings(w http.ResponseWriter, r *http.Request, s *session) {
	h.renderSettings(w, r, s, h.withNotice(r, h.newView(s, "Settings", "settings")), http.StatusOK, *s.Account)
}

func (h *Handler) renderSettings(w http.ResponseWriter, r *http.Request, s *session, v *view, status int, a audittrail.Account) {
	page := settingsPage{A: a}
	if a.AuditTrailEnabledAt != nil {
		page.EnabledAt = a.AuditTrailEnabledAt.In(s.Loc).Format("Jan 2, 2006 at 15:04")
	}
	zones := h.timezones
	if !slices.Contains(zones, a.Timezone) {
		zones = append(slices.Clone(zones), a.Timezone)
		slices.Sort(zones)
	}
	for _, z := range zones {
		page.Timezones = append(page.Timezones, option{z, strings.ReplaceAll(z, "_", " "), z == a.Timezone})
	}
	v.Page = page
	h.render(w, r, status, "settings", v)
}

func (h *Handler) handleUpdateSettings(w http.ResponseWriter, r *http.Request, s *session) {
	name, tz := strings.TrimSpace(r.PostForm.Get("name")), r.PostForm.Get("timezone")
	if _, err := h.svc.UpdateAccount(r.Context(), s.Principal, s.Account.ID, audittrail.AccountUpdate{Name: &name, Timezone: &tz}); err != nil {
		v := h.newView(s, "Settings", "settings")
		if st, ok := h.failure(w, r, err, v); ok {
			a := *s.Account
			a.Name, a.Timezone = name, tz
			h.renderSettings(w, r, s, v, st, a)
		}
		return
	}
	http.Redirect(w, r, "/settings?done=settings-saved", http.StatusSeeOther)
}

func (h *Handler) handleAuditTrailSwitch(w http.ResponseWriter, r *http.Request, s *session) {
	on := r.PostForm.Get("enabled") == "true"
	if _, err := h.svc.UpdateAccount(r.Context(), s.Principal, s.Account.ID, audittrail.AccountUpdate{AuditTrailEnabled: &on}); err != nil {
		v := h.newView(s, "Settings", "settings")
		if st, ok := h.failure(w, r, err, v); ok {
			h.renderSettings(w, r, s, v, st, *s.Account)
		}
		return
	}
	done := "trail-disabled"
	if on {
		done = "trail-enabled"
	}
	http.Redirect(w, r, "/settings?done="+done, http.StatusSeeOther)
}
