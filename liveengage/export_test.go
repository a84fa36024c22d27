package liveengage_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/liveengage"
)

// TestExport_Golden checks the export of the seeded history against the
// documented layout, byte for byte.
func TestExport_Golden(t *testing.T) {
	fx := MustOpenFixture(t, Seed())
	for _, tt := range []struct{ name, query string }{
		{"export_default.csv", ""},
		{"export_filtered.csv", "?fromDate=2026-06-02&toDate=2026-06-08&componentTypes=ACUserObject,ACSkillObject&componentTypes=ACLobObject" +
			"&users=o-1,o-2&users=%40mallory&timezone=Europe/London&lpa=true&automaticUpdates=true&language=en-US"},
		{"export_asc_limit.csv", "?orderDirection=ASC&limit=3&lpa=true"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := fx.Export(t, tt.query)
			if r.Status != 200 {
				t.Fatalf("got status %d, want 200: %s", r.Status, r.Body)
			}
			if got := r.Header.Get("Content-Type"); got != "text/csv; charset=utf-8" {
				t.Errorf("Content-Type: got %q", got)
			}
			if got := r.Header.Get("Content-Disposition"); !strings.HasPrefix(got, "attachment; filename=audit-trail-le33192344-") {
				t.Errorf("Content-Disposition: got %q", got)
			}
			Golden(t, tt.name, r.Body)
		})
	}
}

// Export is an export read back.
type Export struct {
	Criteria map[string]string
	Total    int
	Header   []string
	Rows     [][]string
}

// ParseExport reads the three blocks of an export.
func ParseExport(tb testing.TB, body []byte) *Export {
	tb.Helper()
	if bytes.HasPrefix(body, []byte("\ufeff")) {
		tb.Fatalf("export starts with a byte order mark: %q", body[:min(len(body), 20)])
	}
	if lf := bytes.Count(body, []byte("\n")); lf == 0 || bytes.Count(body, []byte("\r\n")) != lf {
		tb.Fatalf("export has line ends other than CRLF: %q", body[:min(len(body), 200)])
	}
	cr := csv.NewReader(bytes.NewReader(body))
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		tb.Fatalf("export is not CSV: %v", err)
	}
	if len(recs) < 7 || recs[0][0] != "Search Criteria" || recs[3][0] != "Total Items" || recs[5][0] != "Results" {
		tb.Fatalf("export blocks: got %q", recs[:min(len(recs), 7)])
	}
	e := &Export{Criteria: map[string]string{}, Header: recs[6], Rows: recs[7:]}
	for i, k := range recs[1] {
		e.Criteria[k] = recs[2][i]
	}
	if _, err := fmt.Sscan(recs[4][0], &e.Total); err != nil {
		tb.Fatalf("Total Items %q: %v", recs[4][0], err)
	}
	return e
}

// TestExport_MatchesQuery checks that for the same filters the export's
// criteria say what was asked, its total is the query's X-Total-Count, and
// its rows are the query's records.
func TestExport_MatchesQuery(t *testing.T) {
	fx := MustOpenFixture(t, Seed())
	for _, tt := range []struct {
		name     string
		args     string     // of auditData
		query    url.Values // of the export
		criteria map[string]string
	}{
		{"Defaults", ``, url.Values{}, map[string]string{
			"Account ID": AccountID, "Start(US/Eastern)": "2025-05-30", "End(US/Eastern)": "2026-06-30",
			"Object types": "All", "Originators": "All", "Include Automatic Updates": "false", "Include LPA Users": "false"}},
		{"Filtered", `fromDate: "2026-06-02", toDate: "2026-06-06", componentTypes: [ACUserObject, ACProfileObject], users: ["o-1", "LP Support", "o-2"], lpa: true, timezone: "Asia/Tokyo"`,
			url.Values{"fromDate": {"2026-06-02"}, "toDate": {"2026-06-06"}, "componentTypes": {"ACUserObject,ACProfileObject"}, "users": {"o-1,LP Support,o-2"}, "lpa": {"true"}, "timezone": {"Asia/Tokyo"}},
			map[string]string{"Account ID": AccountID, "Start(Asia/Tokyo)": "2026-06-02", "End(Asia/Tokyo)": "2026-06-06",
				"Object types": "ACUserObject,ACProfileObject", "Originators": "o-1,LP Support,o-2", "Include Automatic Updates": "false", "Include LPA Users": "true"}},
		{"Automatic", `automaticUpdates: true, orderDirection: ASC, fromDate: "2024-01-01"`,
			url.Values{"automaticUpdates": {"true"}, "orderDirection": {"ASC"}, "fromDate": {"2024-01-01"}},
			map[string]string{"Start(US/Eastern)": "2025-05-30", "Include Automatic Updates": "true", "Include LPA Users": "false"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			items, total := fx.MustQuery(t, "{auditData"+paren(tt.args+sep(tt.args)+" first: 1000")+" {objectType objectName actionType element oldValue newValue originator}}", nil)
			e := ParseExport(t, fx.Export(t, "?"+tt.query.Encode()).Body)
			for k, v := range tt.criteria {
				if e.Criteria[k] != v {
					t.Errorf("criteria %q: got %q, want %q (all: %v)", k, e.Criteria[k], v, e.Criteria)
				}
			}
			if e.Total != total {
				t.Errorf("Total Items: got %d, want the query's X-Total-Count %d", e.Total, total)
			}
			if !slices.Equal(e.Header, liveengage.Columns) {
				t.Errorf("header: got %q, want %q", e.Header, liveengage.Columns)
			}
			if len(e.Rows) != len(items) {
				t.Fatalf("got %d rows, want %d", len(e.Rows), len(items))
			}
			for i, it := range items {
				row := e.Rows[i]
				got := []string{row[0], strings.TrimPrefix(row[2], "'"), row[3], row[4], strings.TrimPrefix(row[5], "'"), strings.TrimPrefix(row[6], "'"), strings.TrimPrefix(row[8], "'")}
				want := strs([]map[string]any{it}, "objectType")
				for _, f := range []string{"objectName", "actionType", "element", "oldValue", "newValue", "originator"} {
					want = append(want, fmt.Sprint(it[f]))
				}
				if !slices.Equal(got, want) {
					t.Errorf("row %d: got %q, want %q", i, got, want)
				}
			}
		})
	}
}

func paren(s string) string { return "(" + s + ")" }

// TestExport_Cells checks the cells of one row: formulas defused, dates in
// the zone, profiles as a list, quoting of commas, quotes and line breaks.
func TestExport_Cells(t *testing.T) {
	fx := MustOpenFixture(t, Seed())
	e := ParseExport(t, fx.Export(t, "?users=o-3,o-1&fromDate=2026-06-07&toDate=2026-06-08&timezone=UTC").Body)
	want := [][]string{
		{"LoBs", "l-1", "EMEA", "Edit", "Description", "", "'-5 days, \"quoted\"\nsecond line", "2026-06-08T15:45:30", "'@mallory", "'=1+1", "[=cmd]"},
		{"Users", "u-1", "Jane Doe", "Edit", "Nickname", "J", `'=HYPERLINK("http://evil.example","x")`, "2026-06-07T10:00:00", "Olivia Admin", "E-100", "[Administrator, Campaign Manager]"},
	}
	if len(e.Rows) != len(want) {
		t.Fatalf("got %d rows %q, want %d", len(e.Rows), e.Rows, len(want))
	}
	for i := range want {
		if !slices.Equal(e.Rows[i], want[i]) {
			t.Errorf("row %d: got %q, want %q", i, e.Rows[i], want[i])
		}
	}
	if e.Criteria["Originators"] != "o-3,o-1" {
		t.Errorf("Originators: got %q", e.Criteria["Originators"])
	}

	// A criterion that a spreadsheet would read as a formula is defused too.
	e = ParseExport(t, fx.Export(t, "?users="+url.QueryEscape("=cmd|' /C calc'!A0")).Body)
	if got := e.Criteria["Originators"]; got != "'=cmd|' /C calc'!A0" {
		t.Errorf("Originators: got %q, want it defused", got)
	}
}

// TestExport_Limit checks that limit bounds the rows, not the total, in
// both directions and across the chunks of an ascending walk.
func TestExport_Limit(t *testing.T) {
	var recs []*audittrail.Record
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1203 {
		recs = append(recs, &audittrail.Record{ObjectType: "skills", ObjectID: fmt.Sprint(i), ObjectName: fmt.Sprintf("n%04d", i),
			ActionType: "edit", Element: "Name", Date: base.Add(time.Duration(i) * time.Minute),
			Originator: audittrail.Originator{ID: "o-1", Name: "Olivia"}, Automatic: i%10 == 3, ChangeID: audittrail.NewID("chg_"), Source: "platform"})
	}
	fx := MustOpenFixture(t, recs)
	var kept []string // oldest first
	for _, r := range recs {
		if !r.Automatic {
			kept = append(kept, r.ObjectName)
		}
	}
	names := func(e *Export) []string {
		var out []string
		for _, r := range e.Rows {
			out = append(out, r[2])
		}
		return out
	}
	desc := slices.Clone(kept)
	slices.Reverse(desc)
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"", desc},
		{"?limit=5", desc[:5]},
		{"?orderDirection=ASC", kept},
		{"?orderDirection=ASC&limit=700", kept[:700]},
		{"?orderDirection=ASC&limit=1", kept[:1]},
		{"?limit=2000", desc},
	} {
		e := ParseExport(t, fx.Export(t, tt.query).Body)
		if e.Total != len(kept) {
			t.Errorf("%s: Total Items: got %d, want %d", tt.query, e.Total, len(kept))
		}
		if got := names(e); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %d rows %s, want %d %s", tt.query, len(got), clipList(got), len(tt.want), clipList(tt.want))
		}
	}
}

// TestExport_Errors checks that bad parameters answer 400 with the native
// error body, before any CSV.
func TestExport_Errors(t *testing.T) {
	fx := MustOpenFixture(t, Seed())
	for _, tt := range []struct{ query, want string }{
		{"?fromDate=yesterday", `fromDate \"yesterday\" is not a date in the format yyyy-MM-dd`},
		{"?limit=0", `limit \"0\" must be a whole number from 1`},
		{"?limit=ten", `limit \"ten\" must be a whole number`},
		{"?lpa=maybe", `lpa \"maybe\" must be true or false`},
		{"?componentTypes=ACUserObject,ACNopeObject", `\"ACNopeObject\" is not a component type`},
		{"?timezone=Nowhere/Land", `timezone \"Nowhere/Land\" is not a time zone`},
		{"?orderDirection=UP", `orderDirection \"UP\" must be ASC or DESC`},
	} {
		r := fx.Export(t, tt.query)
		if r.Status != 400 || !strings.Contains(string(r.Body), `"code":"invalid_parameter"`) || !strings.Contains(string(r.Body), tt.want) {
			t.Errorf("%s: got %d %s, want 400 invalid_parameter with %s", tt.query, r.Status, r.Body, tt.want)
		}
	}
}
