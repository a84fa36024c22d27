package e2e

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestPublisherKeyNameSpellings checks SPEC §5 (a publisher key's name is 1
// to 64 characters of ASCII letters, digits, space, '.', '_' and '-', and
// never audittrail in any case) against the spellings that read as the
// service's source: with spaces, dots, underscores or hyphens inside
// ("Audit Trail"), a soft hyphen, full-width letters, a bidi override.
func TestPublisherKeyNameSpellings(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "keynames", true)
	for _, name := range []string{"\u0430udittrail", "audit\u200btrail", "audittrail\u200b", "\u200baudittrail", "audittrail", "AuditTrail",
		" AUDITTRAIL ", "Audit Trail", "audit-trail", "ａｕｄｉｔｔｒａｉｌ", "audit\u00adtrail", "\u202eliarttidua", "", "   ",
		strings.Repeat("k", 65), "caf\u00e9", "tab\tname", "a/b"} {
		t.Run(fmt.Sprintf("Err%q", name), func(t *testing.T) {
			MustError(t, srv.Do(t, "POST", a.path("/publisher-keys"), a.AdminToken, map[string]string{"name": name}), 422, "validation_failed")
		})
	}
	for _, name := range []string{"crm", "CRM platform", "billing-v2.1_eu", strings.Repeat("k", 64)} {
		t.Run("OK"+name[:min(len(name), 16)], func(t *testing.T) {
			k := srv.Must(t, 201, "POST", a.path("/publisher-keys"), a.AdminToken, map[string]string{"name": name}).JSON(t)
			if k["name"] != name {
				t.Errorf("name: got %v, want %q", k["name"], name)
			}
		})
	}
	// None of the refused names was made into a key: the account holds
	// MustAccount's key and the four above.
	keys := srv.Must(t, 200, "GET", a.path("/publisher-keys"), a.AdminToken, nil).JSON(t)["publisher_keys"].([]any)
	if len(keys) != 5 {
		t.Errorf("publisher keys: got %d, want 5", len(keys))
	}
}

// formulaTexts are values that a spreadsheet reads as formulas though they
// do not start with =, +, -, @, a tab or a carriage return: the first
// visible character is one, after white space, invisible characters or a
// quote, or it is a full-width form of one.
var formulaTexts = []string{" =1+1", "\n=1+1", "\r\n=1+1", "\u00a0=1+1", "\u200b=1+1", "\ufeff=1+1", "\u2060=1+1", "\u202e=1+1",
	"\"=1+1", "'=1+1", "\uff1d1+1", "\uff0b1", "\uff0d1", "\uff20SUM(1)", " \u200b\u00a0\uff1dcmd|' /C calc'!A0"}

// TestCSVFormulaPast checks SPEC §6 "no cell of any export is ever a
// formula" for values whose formula starts past their first byte, in the
// CSV export and the LiveEngage export (which leaves plain numbers alone).
func TestCSVFormulaPast(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "formulas", true)
	var items []map[string]any
	for i, v := range formulaTexts {
		items = append(items, rec("object_id", fmt.Sprintf("f-%02d", i), "object_name", v, "element", "note", "old_value", v, "new_value", v,
			"originator", map[string]any{"id": "o-1", "name": v, "employee_id": v}))
	}
	items = append(items, rec("object_id", "plain", "object_name", "-1", "element", "note", "old_value", "-1", "new_value", "+3"))
	srv.MustRecords(t, a, items...)

	t.Run("CSV", func(t *testing.T) {
		body, _ := srv.mustExport(t, a, "csv", vals("object_type", "users"))
		rows := hostileCSV(t, body)[1:]
		seen := map[string]bool{}
		for _, row := range rows {
			seen[row[1]] = true
		}
		for _, v := range formulaTexts {
			want := "'" + v
			if !seen[want] {
				t.Errorf("%q: no row shows it as %q", v, want)
			}
			for _, row := range rows {
				if row[1] == want && (row[4] != want || row[5] != want || row[7] != want) {
					t.Errorf("%q: got row %q, want every cell %q", v, row, want)
				}
			}
		}
		if !seen["'-1"] {
			t.Errorf("-1: not prefixed in the CSV export")
		}
	})

	t.Run("LiveEngage", func(t *testing.T) {
		r := srv.Do(t, "GET", "/api/account/"+a.ID+"/configuration/metadata/audit/export?timezone=UTC&componentTypes=ACUserObject", a.AdminToken, nil)
		if r.Status == 404 {
			t.Skip("the LiveEngage-compatible routes are not mounted")
		}
		if r.Status != 200 {
			t.Fatalf("LiveEngage export: got %d, want 200: %.300s", r.Status, r.Body)
		}
		rd := csv.NewReader(bytes.NewReader(r.Body))
		rd.FieldsPerRecord = -1
		rows, err := rd.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, row := range rows {
			if len(row) < 10 || !strings.HasPrefix(row[1], "f-") && row[1] != "plain" {
				continue
			}
			n++
			if row[1] == "plain" {
				if row[2] != "-1" || row[6] != "+3" {
					t.Errorf("plain numbers: got %q, want -1 and +3 as they are", row)
				}
				continue
			}
			for _, col := range []int{2, 5, 6, 8, 9} {
				if !strings.HasPrefix(row[col], "'") {
					t.Errorf("LiveEngage export: got cell %d %q, want it prefixed with '", col, row[col])
				}
			}
		}
		if n != len(formulaTexts)+1 {
			t.Errorf("LiveEngage export: got %d rows of the test, want %d", n, len(formulaTexts)+1)
		}
	})
}

// TestLogNoRawControls checks that the server's log, in both formats, never
// carries a raw C1 control (U+0080–U+009F) or bidi control (U+061C,
// U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) that a request put in it,
// and that a JSON line still decodes to the text of the request.
func TestLogNoRawControls(t *testing.T) {
	const hostile = "\u0085\u009b31m\u0080\u009f\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			srv := MustStart(t, "--log-format", format)
			path := "/api/v1/accounts/nobody/records/" + hostile
			srv.Do(t, "GET", "/api/v1/accounts/nobody/records/"+url.PathEscape(hostile), OperatorToken, nil)
			MustError(t, srv.Do(t, "POST", "/api/v1/login", "", map[string]string{"account_id": "nobody", "login_name": hostile, "password": hostile}), 401, "unauthenticated")
			var lines []string
			for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if lines = logLines(srv.Logs(), "/api/v1/login"); len(lines) > 0 {
					break
				}
			}
			if len(lines) == 0 {
				t.Fatalf("no log line of the login request:\n%s", srv.Logs())
			}
			for _, line := range strings.Split(srv.Logs(), "\n") {
				for _, r := range line {
					if rawLogControl(r) {
						t.Fatalf("log line holds the raw character %U: %q", r, line)
					}
				}
			}
			if format != "json" {
				return
			}
			found := false
			for _, line := range strings.Split(srv.Logs(), "\n") {
				var ev map[string]any
				if json.Unmarshal([]byte(line), &ev) == nil && ev["path"] == path {
					found = true
				}
			}
			if !found {
				t.Errorf("no JSON line decodes to the path %q:\n%s", path, srv.Logs())
			}
		})
	}
}

// rawLogControl reports whether r is a C1 control or a bidi control, which
// no log line holds raw.
func rawLogControl(r rune) bool {
	return r >= 0x80 && r <= 0x9f || r == 0x061c || r == 0x200e || r == 0x200f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

// logLines returns the lines of log that hold s.
func logLines(log, s string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}
