package e2e

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// The column titles of the CSV and Excel exports (SPEC §2).
var exportHeader = []string{"Object Type", "Object Name", "Action Type", "Element", "Old Value", "New Value", "Date", "Originator"}

// exportContentTypes are the media types of the exports.
var exportContentTypes = map[string]string{
	"xlsx":   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"csv":    "text/csv",
	"ndjson": "application/x-ndjson",
}

// exportInjections are values a spreadsheet would read as formulas.
var exportInjections = []string{`=HYPERLINK("http://x","y")`, "+1", "-1", "@SUM(1)", "\t=1", "\r=1"}

// exportClient opens one connection per request, so that closing a body
// that was not read to the end closes that request's connection.
var exportClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// openExport sends GET .../records/export.{format} and returns the response
// with its body unread; the caller closes it.
func openExport(s *Server, a *Account, format string, q url.Values, cred string) (*http.Response, error) {
	req, err := http.NewRequest("GET", s.URL+a.path("/records/export."+format)+query(q), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+cred)
	return exportClient.Do(req)
}

// mustExport reads a whole export, failing the test unless it answers 200
// with the format's Content-Type and an attachment filename.
func (s *Server) mustExport(tb testing.TB, a *Account, format string, q url.Values) (body []byte, filename string) {
	tb.Helper()
	resp, err := openExport(s, a, format, q, a.AdminToken)
	if err != nil {
		tb.Fatalf("export.%s: %v", format, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("export.%s: reading the body: got %v, want nil", format, err)
	}
	if resp.StatusCode != 200 {
		tb.Fatalf("export.%s?%s: got status %d, want 200: %.300s", format, q.Encode(), resp.StatusCode, body)
	}
	ct, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || ct != exportContentTypes[format] {
		tb.Errorf("export.%s: Content-Type: got %q, want %s", format, resp.Header.Get("Content-Type"), exportContentTypes[format])
	}
	disp, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	if err != nil || disp != "attachment" || params["filename"] == "" {
		tb.Errorf("export.%s: Content-Disposition: got %q (%v), want an attachment with a filename", format, resp.Header.Get("Content-Disposition"), err)
	}
	return body, params["filename"]
}

// exportCSVRows checks the byte order mark and the header and returns the
// rows after the header.
func exportCSVRows(tb testing.TB, b []byte) [][]string {
	tb.Helper()
	rest, ok := bytes.CutPrefix(b, []byte("\ufeff"))
	if !ok {
		tb.Fatalf("CSV: got first bytes %q, want the UTF-8 byte order mark", b[:min(len(b), 3)])
	}
	r := csv.NewReader(bytes.NewReader(rest))
	r.FieldsPerRecord = len(exportHeader)
	rows, err := r.ReadAll()
	if err != nil {
		tb.Fatalf("CSV: encoding/csv: got %v, want nil", err)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], exportHeader) {
		tb.Fatalf("CSV header: got %q, want %q", rows[:min(len(rows), 1)], exportHeader)
	}
	return rows[1:]
}

// exportNDJSON splits an NDJSON export into its lines and decodes them.
func exportNDJSON(tb testing.TB, b []byte) (lines []string, recs []Record) {
	tb.Helper()
	if len(b) == 0 {
		return nil, nil
	}
	if !bytes.HasSuffix(b, []byte("\n")) {
		tb.Errorf("NDJSON: got no final newline, want each line ended")
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var r Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			tb.Fatalf("NDJSON line %q: got %v, want a record", line, err)
		}
		lines = append(lines, line)
		recs = append(recs, r)
	}
	return lines, recs
}

// exportXLSX reads an Excel export with excelize and by unzipping it: one
// sheet "Audit trail", the header, no formula element in any part, every
// cell but the dates an inline string. It returns the rows after the header
// and, for each, the date cell's serial number.
func exportXLSX(tb testing.TB, b []byte) (rows [][]string, serials []float64) {
	tb.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		tb.Fatalf("xlsx: excelize.OpenReader: got %v, want nil", err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !slices.Equal(got, []string{"Audit trail"}) {
		tb.Fatalf("xlsx sheets: got %v, want [Audit trail]", got)
	}
	all, err := f.GetRows("Audit trail")
	if err != nil {
		tb.Fatal(err)
	}
	if len(all) == 0 || !slices.Equal(all[0], exportHeader) {
		tb.Fatalf("xlsx header: got %q, want %q", all[:min(len(all), 1)], exportHeader)
	}
	for _, r := range all[1:] {
		for len(r) < len(exportHeader) { // GetRows drops trailing empty cells
			r = append(r, "")
		}
		rows = append(rows, r)
	}

	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		tb.Fatalf("xlsx: zip: %v", err)
	}
	for _, zf := range zr.File {
		if !strings.HasSuffix(zf.Name, ".xml") && !strings.HasSuffix(zf.Name, ".rels") {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			tb.Fatal(err)
		}
		d := xml.NewDecoder(rc)
		var cell string // the r attribute of the <c> being read
		var hasV bool
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				tb.Fatalf("xlsx %s: %v", zf.Name, err)
			}
			se, ok := tok.(xml.StartElement)
			if !ok {
				continue
			}
			switch se.Name.Local {
			case "f":
				tb.Errorf("xlsx %s: got a formula element <f> in cell %s, want none", zf.Name, cell)
			case "c":
				if zf.Name != "xl/worksheets/sheet1.xml" {
					continue
				}
				var t, s string
				for _, at := range se.Attr {
					switch at.Name.Local {
					case "r":
						cell = at.Value
					case "t":
						t = at.Value
					case "s":
						s = at.Value
					}
				}
				row, _ := strconv.Atoi(strings.TrimLeft(cell, "ABCDEFGH"))
				if strings.HasPrefix(cell, "G") && row > 1 {
					if t != "" && t != "n" || s == "" {
						tb.Errorf("xlsx %s: got t=%q s=%q, want a number with a date style", cell, t, s)
					}
					hasV = true
				} else if t != "inlineStr" {
					tb.Errorf("xlsx %s: got t=%q, want inlineStr", cell, t)
				}
			case "v":
				if hasV && zf.Name == "xl/worksheets/sheet1.xml" {
					var v string
					if err := d.DecodeElement(&v, &se); err != nil {
						tb.Fatal(err)
					}
					n, err := strconv.ParseFloat(v, 64)
					if err != nil {
						tb.Errorf("xlsx %s: got %q, want a serial number", cell, v)
					}
					serials = append(serials, n)
					hasV = false
				}
			}
		}
		rc.Close()
	}
	if len(serials) != len(rows) {
		tb.Fatalf("xlsx date cells: got %v, want one per row (%v)", len(serials), len(rows))
	}
	return rows, serials
}

// excelSerial is the Excel serial number of t's wall clock in loc.
func excelSerial(t time.Time, loc *time.Location) float64 {
	w := t.In(loc)
	wall := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), time.UTC)
	return wall.Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)).Hours() / 24
}

// TestExport checks the three export routes (SPEC §6, issue 4) on a small
// account in New York time: the filters of the list, the files read back,
// labels, dates in the account's zone, no formula, the filename.
func TestExport(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "exp", true)
	srv.Must(t, 200, "PATCH", a.path(""), a.AdminToken, map[string]any{"timezone": "America/New_York"})
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	base := srv.enabledAt(t, a).Add(time.Second)
	date := func(i int) string { return ts(base.Add(time.Duration(i) * time.Second)) }

	items := []map[string]any{
		rec("action_type", "add", "old_value", nil, "new_value", "Sales, Support", "element", "member_of", "date", date(1)),
		rec("object_name", "Doe, \"JD\" Jane", "new_value", "line one\nline two", "date", date(2)),
		rec("action_type", "delete", "object_id", "u-2", "object_name", "John Roe", "new_value", nil, "old_value", "John", "date", date(3),
			"originator", map[string]any{"id": "o-2", "name": "Émile Zola"}),
		rec("object_type", "skills", "object_id", "s-1", "object_name", "Billing", "element", "name", "old_value", "Bill", "new_value", "Billing", "date", date(4)),
	}
	for i, v := range exportInjections {
		items = append(items, rec("object_id", "inj", "object_name", v, "element", v, "old_value", v, "new_value", v,
			"originator", map[string]any{"id": "o-inj", "name": v}, "date", date(10+i)))
	}
	srv.MustRecords(t, a, items...)
	all := srv.ListAll(t, a, nil)
	if len(all) < len(items) { // and the service's own records of the settings change
		t.Fatalf("records: got %v, want at least %v", len(all), len(items))
	}
	label := exportLabels(t, srv, a)

	t.Run("OK", func(t *testing.T) {
		// NDJSON: each line is the API's JSON of the record, newest first.
		b, _ := srv.mustExport(t, a, "ndjson", nil)
		lines, recs := exportNDJSON(t, b)
		if got, want := ids(recs), ids(all); !slices.Equal(got, want) {
			t.Fatalf("NDJSON ids: got %v, want %v", got, want)
		}
		for i, line := range lines {
			api := srv.Must(t, 200, "GET", a.path("/records/"+recs[i].ID), a.AdminToken, nil)
			if want := strings.TrimSpace(string(api.Body)); line != want {
				t.Errorf("NDJSON line %d: got %s, want %s", i, line, want)
			}
		}

		// CSV: labels, the date in New York, quoting, defused formulas.
		b, _ = srv.mustExport(t, a, "csv", nil)
		rows := exportCSVRows(t, b)
		if len(rows) != len(all) {
			t.Fatalf("CSV rows: got %v, want %v", len(rows), len(all))
		}
		for i, r := range all {
			want := []string{label[r.ObjectType], r.ObjectName, map[string]string{"add": "Add new", "edit": "Edit", "delete": "Delete"}[r.ActionType],
				r.Element, r.OldValue, r.NewValue, r.Time(t).In(ny).Format("2006-01-02 15:04:05"), r.Originator.Name}
			for c := range want {
				if c != 6 && want[c] != "" && strings.ContainsRune("=+-@\t\r", rune(want[c][0])) {
					want[c] = "'" + want[c] // defused
				}
			}
			got := rows[i]
			if !slices.Equal(got, want) {
				t.Errorf("CSV row %d: got %q, want %q", i+1, got, want)
			}
		}
		for _, raw := range []string{`"Doe, ""JD"" Jane"`, `"Sales, Support"`} {
			if !bytes.Contains(b, []byte(raw)) {
				t.Errorf("CSV: got no %q, want RFC 4180 quoting", raw)
			}
		}

		// Excel: the same values as given (inline strings), real dates.
		b, _ = srv.mustExport(t, a, "xlsx", nil)
		xrows, serials := exportXLSX(t, b)
		if len(xrows) != len(all) {
			t.Fatalf("xlsx rows: got %v, want %v", len(xrows), len(all))
		}
		for i, r := range all {
			want := []string{label[r.ObjectType], r.ObjectName, map[string]string{"add": "Add new", "edit": "Edit", "delete": "Delete"}[r.ActionType],
				r.Element, r.OldValue, r.NewValue, xrows[i][6], r.Originator.Name}
			if !slices.Equal(xrows[i], want) {
				t.Errorf("xlsx row %d: got %q, want %q", i+1, xrows[i], want)
			}
			if want := excelSerial(r.Time(t), ny); serials[i]-want > 1e-8 || want-serials[i] > 1e-8 {
				t.Errorf("xlsx row %d date: got %v, want %v (%s in New York)", i+1, serials[i], want, r.Time(t).In(ny).Format(time.DateTime))
			}
		}
	})

	t.Run("OKFilters", func(t *testing.T) {
		for _, q := range []url.Values{
			vals("object_type", "skills"),
			vals("object_type", "users", "action_type", "add,delete"),
			vals("element", "Member of"),
			vals("object_name", "Billing"),
			vals("object_id", "inj"),
			vals("originator", "Émile Zola"),
			vals("originator", "o-inj"),
			vals("q", "SUM("),
			vals("from", date(3), "to", date(11)),
			vals("q", "nothing matches this"),
		} {
			want := srv.ListAll(t, a, q)
			if len(want) == 0 && q.Get("q") != "nothing matches this" {
				t.Fatalf("?%s: got no records, want some (else the filter proves nothing)", q.Encode())
			}
			b, _ := srv.mustExport(t, a, "ndjson", q)
			if _, recs := exportNDJSON(t, b); !slices.Equal(ids(recs), ids(want)) {
				t.Errorf("NDJSON ?%s: got %v, want %v", q.Encode(), ids(recs), ids(want))
			}
			b, _ = srv.mustExport(t, a, "csv", q)
			var names, wantNames []string
			for _, r := range exportCSVRows(t, b) {
				names = append(names, strings.TrimPrefix(r[1], "'"))
			}
			for _, r := range want {
				wantNames = append(wantNames, strings.ReplaceAll(r.ObjectName, "\r", ""))
			}
			if !slices.Equal(exportNoCR(names), wantNames) {
				t.Errorf("CSV ?%s: got %q, want %q", q.Encode(), names, wantNames)
			}
			b, _ = srv.mustExport(t, a, "xlsx", q)
			rows, _ := exportXLSX(t, b)
			names, wantNames = nil, nil
			for _, r := range rows {
				names = append(names, r[1])
			}
			for _, r := range want {
				wantNames = append(wantNames, r.ObjectName)
			}
			if !slices.Equal(names, wantNames) {
				t.Errorf("xlsx ?%s: got %q, want %q", q.Encode(), names, wantNames)
			}
		}
	})

	t.Run("OKFilename", func(t *testing.T) {
		// 02:00 UTC is the evening before in New York.
		now := time.Now().UTC()
		from := time.Date(now.Year(), now.Month(), now.Day(), 2, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
		to := from.AddDate(0, 0, 2)
		q := vals("from", ts(from), "to", ts(to))
		for _, format := range []string{"xlsx", "csv", "ndjson"} {
			_, name := srv.mustExport(t, a, format, q)
			want := fmt.Sprintf("audit-trail-exp-%s-%s.%s", from.In(ny).Format(time.DateOnly), to.In(ny).Format(time.DateOnly), format)
			if name != want {
				t.Errorf("export.%s filename: got %v, want %v", format, name, want)
			}
		}
		// Without from and to: the retention window's start, and today.
		_, name := srv.mustExport(t, a, "xlsx", nil)
		prefix := "audit-trail-exp-"
		suffix := "-" + time.Now().In(ny).Format(time.DateOnly) + ".xlsx"
		if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) || len(name) != len(prefix)+10+len(suffix) {
			t.Errorf("export.xlsx filename: got %v, want %sYYYY-MM-DD%s", name, prefix, suffix)
		}
	})

	t.Run("OKCommand", func(t *testing.T) {
		// The CLI against the data directory of the running server (SQLite
		// in WAL mode lets it read alongside).
		dir := t.TempDir()
		want := srv.ListAll(t, a, vals("object_type", "users"))
		for _, format := range []string{"csv", "ndjson", "xlsx"} {
			out := filepath.Join(dir, "export."+format)
			_, stderr, code := run(t, "export", "--account", a.ID, "--format", format, "--object-type", "users", "-o", out, "--data", srv.Data)
			if code != 0 {
				t.Fatalf("export --format %s: exit code: got %v, want %v: %s", format, code, 0, stderr)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			switch format {
			case "csv":
				for _, r := range exportCSVRows(t, b) {
					got = append(got, r[0]+"|"+strings.TrimPrefix(r[1], "'"))
				}
			case "ndjson":
				_, recs := exportNDJSON(t, b)
				if !slices.Equal(ids(recs), ids(want)) {
					t.Errorf("ndjson ids: got %v, want %v", ids(recs), ids(want))
				}
				for _, r := range recs {
					got = append(got, "Users|"+r.ObjectName)
				}
			case "xlsx":
				rows, _ := exportXLSX(t, b)
				for _, r := range rows {
					got = append(got, r[0]+"|"+r[1])
				}
			}
			var wantRows []string
			for _, r := range want {
				wantRows = append(wantRows, "Users|"+r.ObjectName)
			}
			if !slices.Equal(got, wantRows) && !slices.Equal(got, exportNoCR(wantRows)) {
				t.Errorf("export --format %s: got %q, want %q", format, got, wantRows)
			}
		}
	})

	t.Run("ErrUnknownParameter", func(t *testing.T) {
		for _, format := range []string{"xlsx", "csv", "ndjson"} {
			MustError(t, srv.Do(t, "GET", a.path("/records/export."+format)+"?limit=5", a.AdminToken, nil), 400, "invalid_parameter")
			MustError(t, srv.Do(t, "GET", a.path("/records/export."+format)+"?from=yesterday", a.AdminToken, nil), 400, "invalid_parameter")
		}
	})

	t.Run("ErrForbidden", func(t *testing.T) {
		for _, format := range []string{"xlsx", "csv", "ndjson"} {
			MustError(t, srv.Do(t, "GET", a.path("/records/export."+format), a.Key, nil), 403, "forbidden")
			MustError(t, srv.Do(t, "GET", a.path("/records/export."+format), "", nil), 401, "unauthenticated")
		}
	})

	t.Run("ErrCommand", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "x.csv")
		for _, args := range [][]string{
			{"--format", "csv"}, // no account
			{"--account", "no-such-account", "--format", "csv"},
			{"--account", a.ID, "--format", "pdf"},
			{"--account", a.ID, "--format", "csv", "--from", "yesterday"},
		} {
			if _, _, code := run(t, append([]string{"export", "--data", srv.Data, "-o", out}, args...)...); code != 1 {
				t.Errorf("export %v: exit code: got %v, want %v", args, code, 1)
			}
		}
	})
}

// exportLabels returns the catalog's label of each object type.
func exportLabels(tb testing.TB, s *Server, a *Account) map[string]string {
	tb.Helper()
	var v struct {
		ObjectTypes []struct {
			Key   string `json:"key"`
			Label string `json:"label"`
		} `json:"object_types"`
	}
	if err := json.Unmarshal(s.Must(tb, 200, "GET", "/api/v1/object-types", a.AdminToken, nil).Body, &v); err != nil {
		tb.Fatal(err)
	}
	out := map[string]string{}
	for _, ot := range v.ObjectTypes {
		out[ot.Key] = ot.Label
	}
	if out["users"] != "Users" {
		tb.Fatalf("label of users: got %q, want Users", out["users"])
	}
	return out
}

// exportNoCR drops carriage returns from each string: encoding/csv, reading
// or writing, does not keep a lone CR inside a field.
func exportNoCR(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ReplaceAll(s, "\r", "")
	}
	return out
}

// TestExportLarge fills an account with 100,001 records (4 clients posting
// batches of 1,000) and checks, on one server: the Excel cap (exactly
// 100,000 export, 100,001 are refused with the count), CSV and NDJSON
// without a cap, at most 2 exports of an account at once, a client that
// goes away mid-export, and the CLI's cap.
func TestExportLarge(t *testing.T) {
	t.Parallel()
	start := time.Now()
	srv := MustStart(t)
	a := srv.MustAccount(t, "big", true)

	const total = 100_001
	const users = 100_000 // the records of object type users: exactly the cap
	const batch = 1000
	// The service's own records (enabling the audit trail) and skills
	// records make up the rest.
	others := total - users - srv.Count(t, a, nil)
	if others < 0 {
		t.Fatalf("records before the test: got %v, want at most %v", total-users-others, total-users)
	}
	old := strings.Repeat("Sales, Support, Billing; ", 3)
	batches := make(chan int)
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				items := make([]map[string]any, 0, batch)
				for i := b * batch; i < min((b+1)*batch, users); i++ {
					items = append(items, rec("object_id", "u-"+strconv.Itoa(i), "object_name", "User "+strconv.Itoa(i), "old_value", old, "new_value", old+strconv.Itoa(i)))
				}
				if err := post(srv, a, items); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	go func() {
		defer close(batches)
		for b := range users / batch {
			select {
			case batches <- b:
			case err := <-errs:
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	for range others {
		srv.MustRecords(t, a, rec("object_type", "skills", "object_id", "s-1", "object_name", "Billing"))
	}
	if n := srv.Count(t, a, nil); n != total {
		t.Fatalf("count: got %v, want %v", n, total)
	}
	onlyUsers := vals("object_type", "users")
	if n := srv.Count(t, a, onlyUsers); n != users {
		t.Fatalf("count of users: got %v, want %v", n, users)
	}
	t.Logf("%d records posted in %v", total, time.Since(start).Round(time.Millisecond))

	t.Run("ErrExportTooLarge", func(t *testing.T) {
		e := MustError(t, srv.Do(t, "GET", a.path("/records/export.xlsx"), a.AdminToken, nil), 422, "export_too_large")
		if !strings.Contains(e.Message, "100001") && !strings.Contains(e.Message, "100,001") {
			t.Errorf("message: got %q, want the count 100001", e.Message)
		}
		if !strings.Contains(e.Message, "narrow") || !strings.Contains(e.Message, "timeframe") {
			t.Errorf("message: got %q, want it to say to narrow the timeframe", e.Message)
		}
		if !strings.Contains(e.Message, "CSV") || !strings.Contains(e.Message, "NDJSON") {
			t.Errorf("message: got %q, want it to point to the CSV and NDJSON exports", e.Message)
		}
	})

	t.Run("OKExactly100000", func(t *testing.T) {
		t0 := time.Now()
		b, name := srv.mustExport(t, a, "xlsx", onlyUsers)
		download := time.Since(t0)
		if !strings.HasPrefix(name, "audit-trail-big-") || !strings.HasSuffix(name, ".xlsx") {
			t.Errorf("filename: got %v, want audit-trail-big-{from}-{to}.xlsx", name)
		}
		f, err := excelize.OpenReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("excelize.OpenReader: got %v, want nil", err)
		}
		defer f.Close()
		rows, err := f.Rows("Audit trail")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			// Raw values: formatting 100,000 dates takes excelize seconds.
			cols, err := rows.Columns(excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 && !slices.Equal(cols, exportHeader) {
				t.Errorf("header: got %q, want %q", cols, exportHeader)
			}
			if n > 0 && (len(cols) < 2 || cols[0] != "Users" || !strings.HasPrefix(cols[1], "User ")) {
				t.Fatalf("row %d: got %q, want a user record", n+1, cols)
			}
			n++
		}
		rows.Close()
		if n != total {
			t.Errorf("rows: got %v, want %v (the header and 100,000 records)", n, total)
		}
		t.Logf("xlsx of 100,000 records: %d MiB, downloaded in %v, read back in %v", len(b)>>20,
			download.Round(time.Millisecond), (time.Since(t0) - download).Round(time.Millisecond))
	})

	t.Run("OKNoCap", func(t *testing.T) {
		t0 := time.Now()
		b, _ := srv.mustExport(t, a, "csv", nil)
		if rows := exportCSVRows(t, b); len(rows) != total {
			t.Errorf("CSV rows: got %v, want %v", len(rows), total)
		}
		t.Logf("CSV of %d records: %d MiB in %v", total, len(b)>>20, time.Since(t0).Round(time.Millisecond))
		b, _ = srv.mustExport(t, a, "ndjson", nil)
		if n := bytes.Count(b, []byte("\n")); n != total {
			t.Errorf("NDJSON lines: got %v, want %v", n, total)
		}
		seen := map[string]bool{}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			var r struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.ID == "" || seen[r.ID] {
				t.Fatalf("NDJSON line %q: got %v or a repeated id, want a new record", sc.Text(), err)
			}
			seen[r.ID] = true
		}
	})

	// open starts an export and reads its first bytes, leaving it running:
	// the rest does not fit the connection's buffers, so the server waits
	// on the client.
	open := func(t *testing.T, format string) *http.Response {
		t.Helper()
		resp, err := openExport(srv, a, format, nil, a.AdminToken)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			t.Fatalf("export.%s: got status %d, want 200: %s", format, resp.StatusCode, b)
		}
		buf := make([]byte, 64)
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			resp.Body.Close()
			t.Fatalf("export.%s: first bytes: got %v, want nil", format, err)
		}
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(buf), resp.Body), resp.Body}
		return resp
	}
	// readAll reads the rest of an export, counting its lines.
	readAll := func(resp *http.Response) (int, error) {
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return bytes.Count(b, []byte("\n")), err
	}
	// waitFree waits until an export of the account can start, and returns
	// it running.
	waitFree := func(t *testing.T, format string) *http.Response {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			resp, err := openExport(srv, a, format, nil, a.AdminToken)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode == 200 {
				return resp
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 429 || time.Now().After(deadline) {
				t.Fatalf("export.%s: got status %d, want 200 once a slot is free: %s", format, resp.StatusCode, b)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	t.Run("ErrExportBusy", func(t *testing.T) {
		first, second := open(t, "csv"), open(t, "ndjson")
		defer second.Body.Close()
		for _, format := range []string{"csv", "ndjson", "xlsx"} {
			MustError(t, srv.Do(t, "GET", a.path("/records/export."+format)+"?object_type=skills", a.AdminToken, nil), 429, "export_busy")
		}
		// Other accounts and other routes are not held up.
		other := srv.MustAccount(t, "big-other", true)
		srv.MustRecords(t, other, rec())
		if b, _ := srv.mustExport(t, other, "csv", nil); len(exportCSVRows(t, b)) != srv.Count(t, other, nil) {
			t.Errorf("other account's export: got %q, want its %d records", b, srv.Count(t, other, nil))
		}
		srv.Count(t, a, nil)
		// Once one ends, a new one runs.
		if n, err := readAll(first); err != nil || n != total+1 {
			t.Fatalf("first export: got %d lines (%v), want %d", n, err, total+1)
		}
		third := waitFree(t, "csv")
		third.Body.Close()
	})

	t.Run("OKClientGoesAway", func(t *testing.T) {
		t0 := time.Now()
		for _, format := range []string{"csv", "ndjson"} {
			gone := waitFree(t, format)
			if _, err := io.ReadFull(gone.Body, make([]byte, 64)); err != nil {
				t.Fatalf("export.%s: first bytes: got %v, want nil", format, err)
			}
			gone.Body.Close() // mid-export
		}
		// The server keeps serving, and the slots come back: two whole
		// exports run side by side.
		srv.Count(t, a, nil)
		first := waitFree(t, "csv")
		second := waitFree(t, "ndjson")
		MustError(t, srv.Do(t, "GET", a.path("/records/export.csv"), a.AdminToken, nil), 429, "export_busy")
		type result struct {
			n   int
			err error
		}
		done := make(chan result, 2)
		for _, r := range []*http.Response{first, second} {
			go func() {
				n, err := readAll(r)
				done <- result{n, err}
			}()
		}
		// The CSV has a header line; the NDJSON has none.
		got := []int{}
		for range 2 {
			r := <-done
			if r.err != nil {
				t.Fatalf("export: got %v, want nil", r.err)
			}
			got = append(got, r.n)
		}
		slices.Sort(got)
		if want := []int{total, total + 1}; !slices.Equal(got, want) {
			t.Errorf("lines: got %v, want %v", got, want)
		}
		t.Logf("slots back and two whole exports in %v", time.Since(t0).Round(time.Millisecond))
	})

	t.Run("ErrCommandTooLarge", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "big.xlsx")
		_, stderr, code := run(t, "export", "--account", a.ID, "--format", "xlsx", "-o", out, "--data", srv.Data)
		if code != 1 {
			t.Errorf("exit code: got %v, want %v", code, 1)
		}
		if !strings.Contains(stderr, "100001") || !strings.Contains(stderr, "narrow") || !strings.Contains(stderr, "CSV") {
			t.Errorf("stderr: got %q, want the count 100001 and to narrow the timeframe or use the CSV or NDJSON export", stderr)
		}
		if fi, err := os.Stat(out); err == nil && fi.Size() > 0 {
			t.Errorf("output: got a file of %d bytes, want none", fi.Size())
		}
	})

	t.Run("OKCommandNoCap", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "big.ndjson")
		_, stderr, code := run(t, "export", "--account", a.ID, "--format", "ndjson", "-o", out, "--data", srv.Data)
		if code != 0 {
			t.Fatalf("exit code: got %v, want %v: %s", code, 0, stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(b, []byte("\n")); n != total {
			t.Errorf("lines: got %v, want %v", n, total)
		}
		if !strings.Contains(stderr, strconv.Itoa(total)) {
			t.Errorf("stderr: got %q, want a line with the number of records exported", stderr)
		}
	})

	if strings.Contains(srv.Logs(), "panic") {
		t.Errorf("server log: got a panic, want none:\n%s", srv.Logs())
	}
	t.Logf("TestExportLarge: %v", time.Since(start).Round(time.Millisecond))
}
