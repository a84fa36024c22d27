package e2e

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// AccessEntry is an entry of the access log as the API answers it.
type AccessEntry struct {
	ID    string `json:"id"`
	At    string `json:"at"`
	Actor struct {
		Kind, ID, Name string
		LoginName      string `json:"login_name"`
	} `json:"actor"`
	Action    string            `json:"action"`
	Format    string            `json:"format"`
	Filters   map[string]string `json:"filters"`
	Records   int               `json:"records"`
	Status    int               `json:"status"`
	IP        string            `json:"ip"`
	UserAgent string            `json:"user_agent"`
}

// AccessLog reads every entry of the account's access log that q selects,
// page by page.
func (s *Server) AccessLog(tb testing.TB, a *Account, q url.Values) []AccessEntry {
	tb.Helper()
	q = clone(q)
	var all []AccessEntry
	for {
		var page struct {
			Entries    []AccessEntry `json:"entries"`
			NextCursor *string       `json:"next_cursor"`
		}
		r := s.Must(tb, 200, "GET", a.path("/access-log"+query(q)), a.AdminToken, nil)
		if err := json.Unmarshal(r.Body, &page); err != nil {
			tb.Fatalf("access log: %v: %s", err, r.Body)
		}
		all = append(all, page.Entries...)
		if page.NextCursor == nil {
			return all
		}
		q.Set("cursor", *page.NextCursor)
	}
}

// TestAccessLog checks SPEC §11: every read of an account's trail — listing,
// counting, opening a record, each export format, proofs and checkpoints,
// refused reads too — is in its access log with who, what, the filters as
// given, how many records and the status; the access log's own reads are
// not; another account's attempts never show; paging and filters work.
func TestAccessLog(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "looked", true)
	b := srv.MustAccount(t, "stranger", true)
	recs := srv.MustRecords(t, a, rec(), rec(), rec("object_type", "skills"))
	noView := srv.Must(t, 201, "POST", a.path("/profiles"), a.AdminToken, map[string]any{
		"name": "Admins without the trail", "role": "administrator", "permissions": []string{}}).JSON(t)["id"].(string)
	peopleCreateUser(t, srv, a, "eve", noView)
	eve := peopleLogin(t, srv, a, "eve", peoplePassword)

	total := srv.Count(t, a, nil) // the platform's 3 and the service's own
	srv.Must(t, 200, "GET", a.path("/records?object_type=users&limit=1"), a.AdminToken, nil)
	srv.Must(t, 200, "GET", a.path("/records/count?object_type=skills"), a.AdminToken, nil)
	srv.Must(t, 200, "GET", a.path("/records/"+recs[0].ID), a.AdminToken, nil)
	for _, format := range []string{"csv", "ndjson", "xlsx"} {
		srv.Must(t, 200, "GET", a.path("/records/export."+format), a.AdminToken, nil)
	}
	srv.Must(t, 200, "GET", a.path("/checkpoint"), a.AdminToken, nil)
	srv.Must(t, 200, "GET", a.path("/records/"+recs[0].ID+"/proof"), a.AdminToken, nil)
	srv.Must(t, 200, "POST", "/api/account/"+a.ID+"/configuration/metadata/audit", a.AdminToken, map[string]string{"query": "{auditData {element}}"})
	srv.Must(t, 200, "GET", "/api/account/"+a.ID+"/configuration/metadata/audit/export", a.AdminToken, nil)
	MustError(t, srv.Do(t, "GET", a.path("/records"), eve, nil), 403, "forbidden")
	MustError(t, srv.Do(t, "GET", a.path("/records?colour=red"), a.AdminToken, nil), 400, "invalid_parameter")
	MustError(t, srv.Do(t, "GET", a.path("/records/rec_nope"), a.AdminToken, nil), 404, "not_found")
	MustError(t, srv.Do(t, "GET", a.path("/records"), b.AdminToken, nil), 404, "not_found")

	log := srv.AccessLog(t, a, nil)
	type want struct {
		action, format string
		records        int
		status         int
		filter         string
	}
	find := func(action, format string, status int) *AccessEntry {
		for i := range log {
			if e := &log[i]; e.Action == action && e.Format == format && e.Status == status {
				return e
			}
		}
		return nil
	}
	t.Run("OKEveryRead", func(t *testing.T) {
		for _, w := range []want{
			{"list", "", 1, 200, "object_type=users"},
			{"count", "", 1, 200, "object_type=skills"},
			{"get", "", 1, 200, ""},
			{"export", "csv", total, 200, ""},
			{"export", "ndjson", total, 200, ""},
			{"export", "xlsx", total, 200, ""},
			{"checkpoint", "", 0, 200, ""},
			{"proof", "", 1, 200, ""},
			{"le_query", "json", total, 200, ""},
			{"le_export", "csv", total, 200, ""},
			{"list", "", 0, 400, "colour=red"},
			{"get", "", 0, 404, ""},
		} {
			e := find(w.action, w.format, w.status)
			if e == nil {
				t.Errorf("no %s %s entry with status %d in %+v", w.action, w.format, w.status, log)
				continue
			}
			if e.Records != w.records {
				t.Errorf("%s %s: records %d, want %d", w.action, w.format, e.Records, w.records)
			}
			if e.Actor.Kind != "user" || e.Actor.LoginName != "admin" || e.Actor.Name != "Ada Admin" || e.Actor.ID == "" {
				t.Errorf("%s: actor %+v, want the administrator", w.action, e.Actor)
			}
			if e.IP != "127.0.0.1" || e.UserAgent == "" || e.ID == "" || e.At == "" {
				t.Errorf("%s: ip %q, user agent %q, id %q, at %q", w.action, e.IP, e.UserAgent, e.ID, e.At)
			}
			if k, v, ok := cut(w.filter); ok && e.Filters[k] != v {
				t.Errorf("%s: filters %v, want %s", w.action, e.Filters, w.filter)
			}
		}
	})
	t.Run("OKRefusedRead", func(t *testing.T) {
		e := find("list", "", 403)
		if e == nil || e.Actor.LoginName != "eve" {
			t.Fatalf("eve's refused read: got %+v", e)
		}
	})
	t.Run("ErrStrangerNotShown", func(t *testing.T) {
		for _, e := range log {
			if e.Actor.LoginName == "admin" && e.Status == 404 && e.Action == "list" {
				t.Errorf("the other account's attempt is in the access log: %+v", e)
			}
		}
		if got := srv.AccessLog(t, b, nil); len(got) != 0 {
			t.Errorf("the stranger's own access log: got %d entries, want 0 (its read of another account is not its trail)", len(got))
		}
	})
	t.Run("OKOwnReadsNotLogged", func(t *testing.T) {
		again := srv.AccessLog(t, a, nil)
		if len(again) != len(log) {
			t.Errorf("reading the access log added entries: %d, then %d", len(log), len(again))
		}
	})
	t.Run("OKFiltersAndPaging", func(t *testing.T) {
		if got := srv.AccessLog(t, a, vals("actor", "eve")); len(got) != 1 || got[0].Actor.LoginName != "eve" {
			t.Errorf("actor=eve: got %+v", got)
		}
		if got := srv.AccessLog(t, a, vals("action", "export")); len(got) != 3 {
			t.Errorf("action=export: got %d entries, want 3", len(got))
		}
		paged := srv.AccessLog(t, a, vals("limit", "2"))
		if len(paged) != len(log) {
			t.Fatalf("paged by 2: %d entries, want %d", len(paged), len(log))
		}
		seen := map[string]bool{}
		for i, e := range paged {
			if seen[e.ID] {
				t.Errorf("entry %s repeated", e.ID)
			}
			seen[e.ID] = true
			if i > 0 && paged[i-1].At < e.At {
				t.Errorf("not newest first at %d: %s before %s", i, paged[i-1].At, e.At)
			}
		}
		MustError(t, srv.Do(t, "GET", a.path("/access-log?action=peek"), a.AdminToken, nil), 400, "invalid_parameter")
		MustError(t, srv.Do(t, "GET", a.path("/access-log?cursor=bogus"), a.AdminToken, nil), 400, "invalid_parameter")
	})
	t.Run("ErrNeedsThePermission", func(t *testing.T) {
		MustError(t, srv.Do(t, "GET", a.path("/access-log"), eve, nil), 403, "forbidden")
		MustError(t, srv.Do(t, "GET", a.path("/access-log"), b.AdminToken, nil), 404, "not_found")
		MustError(t, srv.Do(t, "GET", a.path("/access-log"), a.Key, nil), 403, "forbidden")
	})
	t.Run("OKExportCSV", func(t *testing.T) {
		r := srv.Must(t, 200, "GET", a.path("/access-log/export.csv?action=export"), a.AdminToken, nil)
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.Body, []byte("\ufeff")))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 4 || rows[0][0] != "Date" || rows[1][4] != "export" {
			t.Errorf("access log CSV: got %q", rows)
		}
	})
}

// TestAccessLogCLI checks that an export made by the CLI beside the
// storage is in the access log, its actor the command's.
func TestAccessLogCLI(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "clilooked", true)
	srv.MustRecords(t, a, rec(), rec())
	total := srv.Count(t, a, nil)
	out := filepath.Join(t.TempDir(), "out.csv")
	if _, stderr, code := run(t, "export", "--account", a.ID, "--format", "csv", "-o", out, "--data", srv.Data); code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	log := srv.AccessLog(t, a, vals("action", "export"))
	if len(log) != 1 || log[0].Actor.Kind != "cli" || log[0].Records != total || log[0].Format != "csv" {
		t.Errorf("the CLI's export: got %+v", log)
	}
}

func cut(kv string) (string, string, bool) { return strings.Cut(kv, "=") }
