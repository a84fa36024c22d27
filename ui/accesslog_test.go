package ui_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestAccessLogPage checks SPEC §11 in the console: a page of the audit
// trail and an Excel export made in the UI are in the access log, which
// holders of the permission see under Account settings and can export;
// an agent cannot.
func TestAccessLogPage(t *testing.T) {
	f := MustFixture(t, false)
	b := f.Browser(t)
	b.MustLogin("admin", adminPassword)
	if p := b.Get("/audit-trail?object_type=skills"); p.Status != http.StatusOK {
		t.Fatalf("audit trail: %d", p.Status)
	}
	if p := b.Get("/audit-trail/export?object_type=skills"); p.Status != http.StatusOK {
		t.Fatalf("export: %d", p.Status)
	}
	p := b.Get("/access-log")
	if p.Status != http.StatusOK {
		t.Fatalf("access log: %d: %s", p.Status, p.Body)
	}
	mustContain(t, p, `href="/access-log"`, "Ada Admin", "list", "export (xlsx)", "object_type&#34;:&#34;skills")
	again := b.Get("/access-log")
	if strings.Count(again.Body, "<tr>") != strings.Count(p.Body, "<tr>") {
		t.Errorf("reading the access log page added entries")
	}
	csv := b.Get("/access-log/export.csv?actor=admin")
	if csv.Status != http.StatusOK || !strings.HasPrefix(csv.Header.Get("Content-Type"), "text/csv") || !strings.Contains(csv.Body, "Ada Admin") {
		t.Errorf("access log CSV: %d %s: %.300s", csv.Status, csv.Header.Get("Content-Type"), csv.Body)
	}

	agent := f.Browser(t)
	agent.MustLogin("agent", agentPassword)
	if p := agent.Get("/access-log"); p.Status != http.StatusForbidden {
		t.Errorf("agent: access log answered %d, want 403", p.Status)
	}
}
