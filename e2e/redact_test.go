package e2e

import (
	"strings"
	"testing"
)

// TestSecretsWithNaturalNames checks SPEC §2: secrets are redacted by
// folded names and paths at every depth — {"api": {"key": V}},
// {"private": {"key": V}}, elements "private.key", "api key", "Api Key" —
// through both ingestion routes, and no export holds them.
func TestSecretsWithNaturalNames(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "secrets", true)
	const secret = "s3cr3t-VALUE"
	srv.MustChanges(t, a,
		chg("object_type", "skills", "object_id", "c1", "before", nil, "after", map[string]any{
			"api": map[string]any{"key": secret}, "private": map[string]any{"key": secret}, "name": "visible"}),
		chg("object_type", "skills", "object_id", "c2", "before", map[string]any{"list": []any{map[string]any{"name": "a"}}},
			"after", map[string]any{"list": []any{map[string]any{"name": "a", "Api Key": secret}}}),
	)
	for _, element := range []string{"private.key", "api key", "Api Key", "ＡＰＩ＿ＫＥＹ"} {
		srv.MustRecords(t, a, rec("object_type", "skills", "element", element, "old_value", "", "new_value", secret, "action_type", "add"))
	}
	srv.MustRecords(t, a, rec("object_type", "skills", "element", "config", "new_value", map[string]any{"api": map[string]any{"key": secret}, "x": 1}))

	all := srv.ListAll(t, a, vals("object_type", "skills"))
	if len(all) < 8 {
		t.Fatalf("records: got %d, want at least 8", len(all))
	}
	visible := false
	for _, r := range all {
		if strings.Contains(r.OldValue+r.NewValue, secret) {
			t.Errorf("element %q holds the secret: %q → %q", r.Element, r.OldValue, r.NewValue)
		}
		visible = visible || r.NewValue == "visible"
	}
	if !visible {
		t.Error("the element that is no secret was not kept as it was")
	}
	for _, format := range []string{"csv", "ndjson"} {
		if body := srv.Must(t, 200, "GET", a.path("/records/export."+format), a.AdminToken, nil).Body; strings.Contains(string(body), secret) {
			t.Errorf("export.%s holds the secret", format)
		}
	}
}
