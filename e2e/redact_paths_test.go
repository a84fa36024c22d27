package e2e

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRedactNaturalNames checks SPEC §2: an element is sensitive when its
// key, dotted path or label names a secret after folding (NFKC, case
// folding, no spaces, dots, underscores or hyphens), on both ingestion
// routes, and a secret nested in a structured value is masked inside it.
// No secret reaches a record, an export or (on SQLite) the database files.
func TestRedactNaturalNames(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "redact", true)
	var secrets []string
	secret := func() string {
		s := fmt.Sprintf("s3cr3t-%02d-value", len(secrets))
		secrets = append(secrets, s)
		return s
	}

	t.Run("Records", func(t *testing.T) {
		for _, element := range []string{"private.key", "api key", "Api Key", "API-KEY", "apiKey", "ＡＰＩ＿ＫＥＹ", "pass\u200bword", "Passphrase", "client.secret"} {
			old, new := secret(), secret()
			got := srv.MustRecords(t, a, rec("object_name", "rec "+element, "element", element, "old_value", old, "new_value", new))
			if len(got) != 1 || got[0].OldValue != "********" || got[0].NewValue != "********" {
				t.Errorf("element %q: got %v, want both values ********", element, values(got))
			}
		}
		// A structured value: the secret inside it is masked, the rest kept.
		v := secret()
		got := srv.MustRecords(t, a, rec("element", "config", "old_value", "", "action_type", "add",
			"new_value", map[string]any{"api": map[string]any{"key": v}, "x": 1}))
		if want := `{"api":{"key":"********"},"x":1}`; len(got) != 1 || got[0].NewValue != want {
			t.Errorf("config: got %v, want new_value %s", values(got), want)
		}
		// The element's own name starts the paths inside its value.
		v = secret()
		got = srv.MustRecords(t, a, rec("element", "private", "old_value", "", "action_type", "add",
			"new_value", map[string]any{"key": v, "name": "signing"}))
		if want := `{"key":"********","name":"signing"}`; len(got) != 1 || got[0].NewValue != want {
			t.Errorf("private: got %v, want new_value %s", values(got), want)
		}
	})

	t.Run("Changes", func(t *testing.T) {
		before := map[string]any{
			"api":     map[string]any{"key": secret()},
			"private": map[string]any{"key": secret()},
			"api key": secret(),
			"Api Key": secret(),
			"config":  []any{map[string]any{"api": map[string]any{"key": secret()}, "x": 1}},
		}
		after := map[string]any{
			"api":     map[string]any{"key": secret()},
			"private": map[string]any{"key": secret()},
			"api key": secret(),
			"Api Key": secret(),
			"config":  []any{map[string]any{"api": map[string]any{"key": secret()}, "x": 2}},
		}
		got := srv.MustChanges(t, a, chg("object_name", "changes", "before", before, "after", after))
		byElement := map[string]Record{}
		for _, r := range got {
			byElement[r.Element] = r
		}
		for _, el := range []string{"Api key", "Private key", "api key", "Api Key"} {
			if r, ok := byElement[el]; !ok || r.OldValue != "********" || r.NewValue != "********" {
				t.Errorf("element %q: got %q → %q (found %v), want both values ********", el, r.OldValue, r.NewValue, ok)
			}
		}
		if r := byElement["Config"]; r.OldValue != `{"api":{"key":"********"},"x":1}` || r.NewValue != `{"api":{"key":"********"},"x":2}` {
			t.Errorf("Config: got %q → %q, want the keys masked inside", r.OldValue, r.NewValue)
		}
		// A list under a name that, with the keys inside its items, names a secret.
		got = srv.MustChanges(t, a, chg("object_id", "u-5", "before", nil, "after", map[string]any{"api": []any{map[string]any{"key": secret(), "name": "n"}}}))
		if len(got) != 1 || got[0].NewValue != `{"key":"********","name":"n"}` {
			t.Errorf("api: [{key}]: got %v, want the key masked inside", values(got))
		}
		// The dotted key as it is, an add and a delete too.
		got = srv.MustChanges(t, a, chg("object_id", "u-4", "before", map[string]any{"private.key": secret()}, "after", map[string]any{"private.key": secret()}))
		if len(got) != 1 || got[0].OldValue != "********" || got[0].NewValue != "********" {
			t.Errorf("private.key: got %v, want both values ********", values(got))
		}
		srv.MustChanges(t, a, chg("object_id", "u-2", "before", nil, "after", map[string]any{"api": map[string]any{"key": secret()}}))
		srv.MustChanges(t, a, chg("object_id", "u-3", "after", nil, "before", map[string]any{"private": map[string]any{"key": secret()}}))
	})

	mustNoSecret := func(t *testing.T, where string, b []byte) {
		t.Helper()
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds the secret %q", where, s)
			}
		}
	}
	t.Run("NoSecretAnywhere", func(t *testing.T) {
		q := vals("object_type", "users", "limit", "1000")
		recs := srv.ListAll(t, a, q)
		if len(recs) != 20 {
			t.Fatalf("got %d records, want the 20 written above", len(recs))
		}
		mustNoSecret(t, "GET records", srv.Must(t, 200, "GET", a.path("/records")+query(q), a.AdminToken, nil).Body)
		for _, format := range []string{"csv", "ndjson"} {
			body, _ := srv.mustExport(t, a, format, vals("object_type", "users"))
			mustNoSecret(t, "export."+format, body)
			if !bytes.Contains(body, []byte("********")) {
				t.Errorf("export.%s: no ******** in it, want the redacted values", format)
			}
		}
		body, _ := srv.mustExport(t, a, "xlsx", vals("object_type", "users"))
		rows, _ := exportXLSX(t, body)
		var cells strings.Builder
		for _, r := range rows {
			cells.WriteString(strings.Join(r, "\x00"))
		}
		mustNoSecret(t, "export.xlsx", []byte(cells.String()))
		if onPostgres() {
			return
		}
		srv.Stop(t)
		err := filepath.WalkDir(srv.Data, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			mustNoSecret(t, "the data file "+d.Name(), b)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// values lists the old and new values of records, for messages.
func values(rs []Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s: %q → %q", r.Element, r.OldValue, r.NewValue))
	}
	return out
}
