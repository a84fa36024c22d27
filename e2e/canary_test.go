package e2e

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// canaryUnzip returns the entries of a zip archive (an .xlsx), or nil if b
// is not one.
func canaryUnzip(tb testing.TB, b []byte) map[string][]byte {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			tb.Fatalf("zip entry %s: %v", f.Name, err)
		}
		c, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			tb.Fatalf("zip entry %s: %v", f.Name, err)
		}
		out[f.Name] = c
	}
	return out
}

// canaryScan fails the test for each secret found in one of the blobs.
func canaryScan(tb testing.TB, what string, blobs map[string][]byte, secrets []string) {
	tb.Helper()
	for name, b := range blobs {
		for _, s := range secrets {
			if i := bytes.Index(b, []byte(s)); i >= 0 {
				lo, hi := max(0, i-80), min(len(b), i+len(s)+80)
				tb.Errorf("%s %s holds the secret %q at byte %d: …%q…", what, name, s, i, b[lo:hi])
			}
		}
	}
}

// TestCanary sets passwords and creates keys with recognizable values,
// sends secrets through every path that writes records, then searches the
// whole data directory, the server's log output and every answer that shows
// records for them (issue 3): none may appear.
func TestCanary(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)

	const (
		adminPassword = "CanaryAdminPass-5d2e8b14"
		userPassword  = "CanaryPass-7f3a9c1e"
		userPassword2 = "CanaryPass2-0b9d4a61"
		wrongPassword = "CanaryWrongPass-3e1f7a"
		visible       = "CanaryVisible-c0ffee" // not a secret: must be found, or the search proves nothing
	)
	secrets := []string{adminPassword, userPassword, userPassword2, wrongPassword, OperatorToken,
		"CanaryRecordSecret-0", "CanaryRecordSecret-1", "CanaryRecordSecret-2", "CanaryRecordSecret-3",
		"CanaryApiKey-1", "CanaryApiKey-2", "CanaryChangePass-3", "CanaryNested-4", "CanaryPrivKey-5",
		"CanarySecret-6", "CanarySecret-7", "CanaryRejected-8", "CanaryToken-9"}
	var answers = map[string][]byte{} // every answer to search, by request
	keep := func(name string, r *Response) *Response {
		answers[name] = r.Body
		return r
	}

	// An account whose administrator has a canary password.
	a := &Account{ID: "canary"}
	keep("POST accounts", srv.Must(t, 201, "POST", "/api/v1/accounts", OperatorToken, map[string]any{
		"id": a.ID, "name": "Canary", "admin": map[string]any{"login_name": "admin", "name": "Ada Admin", "password": adminPassword},
	}))
	a.AdminToken = peopleLogin(t, srv, a, "admin", adminPassword)
	srv.Must(t, 200, "PATCH", a.path(""), a.AdminToken, map[string]any{"audit_trail_enabled": true})
	key := keep("POST publisher-keys", srv.Must(t, 201, "POST", a.path("/publisher-keys"), a.AdminToken, map[string]any{"name": "Canary platform"})).JSON(t)
	a.Key = key["key"].(string)
	delete(answers, "POST publisher-keys") // it shows the secret, once, by design

	// A user created and changed through the API, with canary passwords.
	prof := peopleProfileIDs(t, srv, a)
	u := keep("POST users", srv.Must(t, 201, "POST", a.path("/users"), a.AdminToken, map[string]any{
		"login_name": "canary-user", "name": "Canary User", "email": "canary@example.com", "profile_id": prof["Administrator"], "password": userPassword,
	})).JSON(t)
	uid := u["id"].(string)
	keep("PATCH user", srv.Must(t, 200, "PATCH", a.path("/users/"+uid), a.AdminToken, map[string]any{"password": userPassword2}))
	keep("bad login", srv.Do(t, "POST", "/api/v1/login", "", map[string]string{"account_id": a.ID, "login_name": "canary-user", "password": wrongPassword}))
	keep("old password", srv.Do(t, "POST", "/api/v1/login", "", map[string]string{"account_id": a.ID, "login_name": "canary-user", "password": userPassword}))
	userToken := peopleLogin(t, srv, a, "canary-user", userPassword2)
	logoutToken := peopleLogin(t, srv, a, "canary-user", userPassword2)
	peopleStatus(t, srv, 204, "POST", "/api/v1/logout", logoutToken, nil)
	keep("GET users", srv.Must(t, 200, "GET", a.path("/users"), userToken, nil))
	keep("GET user", srv.Must(t, 200, "GET", a.path("/users/"+uid), userToken, nil))
	secrets = append(secrets, a.Key, a.AdminToken, userToken, logoutToken)

	// Secrets sent through every path that writes records.
	keep("POST records", srv.Must(t, 201, "POST", a.path("/records"), a.Key, records(
		rec("element", "password", "old_value", "CanaryRecordSecret-0", "new_value", "CanaryRecordSecret-1"),
		rec("element", "Password", "action_type", "add", "old_value", nil, "new_value", "CanaryRecordSecret-2"),
		rec("object_type", "skills", "object_name", "Billing", "element", "API token", "old_value", "CanaryToken-9", "new_value", "CanaryRecordSecret-3"),
		rec("element", "name", "old_value", "Jane", "new_value", visible),
	)))
	keep("POST changes", srv.Must(t, 201, "POST", a.path("/changes"), a.Key, changes(
		chg("before", map[string]any{"api_key": "CanaryApiKey-1", "name": "Jane"}, "after", map[string]any{"api_key": "CanaryApiKey-2", "name": "Jane Doe"}),
		chg("object_id", "u-2", "before", nil, "after", map[string]any{"name": "John", "password": "CanaryChangePass-3",
			"credentials": map[string]any{"client_secret": "CanaryNested-4"}}),
		chg("object_type", "skills", "object_id", "s-9", "object_name", "Old skill", "before", map[string]any{"name": "Old skill", "private_key": "CanaryPrivKey-5"}, "after", nil),
	)))
	idem := chg("id", "canary-change-1", "object_id", "u-3", "before", map[string]any{"secret": "CanarySecret-6"}, "after", map[string]any{"secret": "CanarySecret-7"})
	keep("POST changes idempotent", srv.Must(t, 201, "POST", a.path("/changes"), a.Key, changes(idem)))
	keep("POST changes retry", srv.Must(t, 201, "POST", a.path("/changes"), a.Key, changes(idem)))
	// A refused batch stores nothing and does not echo the secret.
	r := keep("POST records refused", srv.Do(t, "POST", a.path("/records"), a.Key, records(
		rec("element", "password", "new_value", "CanaryRejected-8"), rec("object_type", "no_such_type"))))
	if r.Status != 422 {
		t.Fatalf("refused batch: got %d, want 422: %s", r.Status, r.Body)
	}

	// Every answer that shows records: pages, each record, the exports.
	var all []Record
	q := url.Values{"limit": {"2"}}
	for page := 0; ; page++ {
		r := keep("GET records page "+strconv.Itoa(page), srv.Must(t, 200, "GET", a.path("/records")+"?"+q.Encode(), a.AdminToken, nil))
		var p Page
		if err := json.Unmarshal(r.Body, &p); err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Records...)
		if p.NextCursor == nil {
			break
		}
		q.Set("cursor", *p.NextCursor)
	}
	redacted, shown := 0, false
	for _, rc := range all {
		keep("GET record "+rc.ID, srv.Must(t, 200, "GET", a.path("/records/"+rc.ID), a.AdminToken, nil))
		if rc.OldValue == "********" || rc.NewValue == "********" {
			redacted++
		}
		shown = shown || rc.NewValue == visible
	}
	// The secrets were written, redacted: the records exist.
	if redacted < 10 || !shown { // 3 records, 5 from changes, 2 of the user's password
		t.Fatalf("records: got %d redacted values and visible %v in %d records, want the secret elements stored as ******** and %q shown", redacted, shown, len(all), visible)
	}
	keep("GET records q", srv.Must(t, 200, "GET", a.path("/records")+"?q=canary", a.AdminToken, nil))
	// The exports, through the API and the CLI: the xlsx unzipped, every
	// part searched. Each must show the visible value, else the search
	// proves nothing.
	exportDir := t.TempDir()
	for _, format := range []string{"csv", "ndjson", "xlsx"} {
		r := srv.Do(t, "GET", a.path("/records/export."+format), a.AdminToken, nil)
		if r.Status != 200 {
			t.Errorf("export.%s: got %d, want 200: %.300s", format, r.Status, r.Body)
			continue
		}
		file := filepath.Join(exportDir, "canary."+format)
		_, stderr, code := run(t, "export", "--account", a.ID, "--format", format, "-o", file, "--data", srv.Data)
		if code != 0 {
			t.Errorf("audittrail export --format %s: exit code: got %v, want 0: %s", format, code, stderr)
		}
		cli, err := os.ReadFile(file)
		if err != nil && code == 0 {
			t.Errorf("audittrail export --format %s: %v", format, err)
		}
		answers["audittrail export --format "+format+" (stderr)"] = []byte(stderr)
		for what, b := range map[string][]byte{"export." + format: r.Body, "audittrail export --format " + format: cli} {
			if len(b) == 0 {
				continue
			}
			entries := canaryUnzip(t, b)
			if (entries != nil) != (format == "xlsx") {
				t.Errorf("%s: got a zip archive %v, want %v", what, entries != nil, format == "xlsx")
			}
			if entries == nil {
				entries = map[string][]byte{"": b}
			}
			shown := false
			for name, c := range entries {
				answers[strings.TrimSpace(what+" "+name)] = c
				shown = shown || bytes.Contains(c, []byte(visible))
			}
			if !shown {
				t.Errorf("%s: got no %q, want every record", what, visible)
			}
		}
	}

	canaryScan(t, "answer to", answers, secrets)
	canaryScan(t, "server log", map[string][]byte{"stderr": []byte(srv.Logs())}, secrets)
	canaryScan(t, "data file", srv.StoredBytes(t), secrets)

	// Once stopped, the WAL is checkpointed into the database file: search again.
	srv.Stop(t)
	files := srv.StoredBytes(t)
	canaryScan(t, "data file (stopped)", files, secrets)
	canaryScan(t, "server log (stopped)", map[string][]byte{"stderr": []byte(srv.Logs())}, secrets)
	found := false
	for _, b := range files {
		found = found || bytes.Contains(b, []byte(visible))
	}
	if !found {
		t.Errorf("data directory: got no %q, want it stored in plain (else this search proves nothing)", visible)
	}
	if strings.TrimSpace(srv.Logs()) == "" {
		t.Errorf("server log: got nothing, want request lines (else this search proves nothing)")
	}
}
