package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// hostileTexts are the values a careless or malicious platform may send:
// line breaks, terminal escapes, other C0 controls, a right-to-left
// override, Unicode line separators, C1 controls, markup and formulas. NUL
// is not among them: it is refused with 422 on every backend (PostgreSQL
// cannot store it), which NotUTF8 checks.
var hostileTexts = []string{
	"CR\rLF\nCRLF\r\nend",
	"\x1b[31mred\x1b[0m \x1b]0;title\x07 \x1b[2J",
	"soh\x01 and bel\x07 bytes",
	"\u202eexe.txt",
	"All \r\n\x1b[1m\x01\u202e\u2028\u2029\x7f\u0085\u009b31m\ufeff at once",
	"<script>alert('x')</script> & \"quotes\"",
	"=HYPERLINK(\"http://x\",\"y\")",
	"\r=1+2 starts with CR",
	"level=ERROR msg=\"forged\"\n{\"level\":\"ERROR\",\"msg\":\"forged\"}",
}

// hostileValue fills exactly n bytes with the hostile texts, cut at a
// character boundary and padded with x.
func hostileValue(n int) string {
	var b strings.Builder
	for b.Len() < n {
		for _, s := range hostileTexts {
			b.WriteString(s)
		}
	}
	s := b.String()[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + strings.Repeat("x", n-len(s))
}

// hostileRecord is a record item whose every text field holds h (the
// element, a label, gets a prefix so that it is not read as a key).
func hostileRecord(h string) map[string]any {
	return map[string]any{
		"id": "idem " + h, "object_type": "users", "object_id": h, "object_name": h, "action_type": "edit",
		"element": "Element " + h, "old_value": h, "new_value": h,
		"originator": map[string]any{"id": h, "name": h, "login_name": h, "user_agent": h, "employee_id": h,
			"auth_type": h, "profiles": []string{h}},
	}
}

// mustSameRecord fails unless got holds, byte for byte, the values of the
// item that was sent.
func mustSameRecord(tb testing.TB, where string, got Record, item map[string]any) {
	tb.Helper()
	o := item["originator"].(map[string]any)
	for _, c := range [][3]string{
		{"object_id", got.ObjectID, item["object_id"].(string)},
		{"object_name", got.ObjectName, item["object_name"].(string)},
		{"element", got.Element, item["element"].(string)},
		{"old_value", got.OldValue, item["old_value"].(string)},
		{"new_value", got.NewValue, item["new_value"].(string)},
		{"originator.id", got.Originator.ID, o["id"].(string)},
		{"originator.name", got.Originator.Name, o["name"].(string)},
		{"originator.login_name", got.Originator.LoginName, o["login_name"].(string)},
		{"originator.user_agent", got.Originator.UserAgent, o["user_agent"].(string)},
		{"originator.employee_id", got.Originator.EmployeeID, o["employee_id"].(string)},
		{"originator.auth_type", got.Originator.AuthType, o["auth_type"].(string)},
	} {
		if c[1] != c[2] {
			tb.Fatalf("%s: %s: got %q, want %q", where, c[0], clipText(c[1]), clipText(c[2]))
		}
	}
	if want := o["profiles"].([]string); !slices.Equal(got.Originator.Profiles, want) {
		tb.Fatalf("%s: originator.profiles: got %q, want %q", where, got.Originator.Profiles, want)
	}
}

func clipText(s string) string {
	if len(s) > 120 {
		return fmt.Sprintf("%s…(%d bytes)", s[:120], len(s))
	}
	return s
}

// safeCell is the CSV rule of SPEC §6: a value that starts with =, +, -,
// @, a tab or a carriage return gets a leading single quote.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// hostileCSV reads a CSV export strictly as RFC 4180 with LF line ends,
// keeping every byte of a quoted cell (encoding/csv would turn CRLF inside
// a cell into LF): a CR or a quote outside a quoted cell is an error.
func hostileCSV(tb testing.TB, b []byte) [][]string {
	tb.Helper()
	b, ok := bytes.CutPrefix(b, []byte("\ufeff"))
	if !ok {
		tb.Fatal("CSV: no byte order mark")
	}
	var (
		rows   [][]string
		row    []string
		cell   []byte
		quoted bool // inside a quoted cell
		closed bool // after the closing quote of a cell
	)
	for i := 0; i < len(b); i++ {
		c := b[i]
		if quoted {
			if c != '"' {
				cell = append(cell, c)
			} else if i+1 < len(b) && b[i+1] == '"' {
				cell = append(cell, '"')
				i++
			} else {
				quoted, closed = false, true
			}
			continue
		}
		switch c {
		case ',', '\n':
			row, cell, closed = append(row, string(cell)), nil, false
			if c == '\n' {
				rows, row = append(rows, row), nil
			}
		case '"':
			if len(cell) > 0 || closed {
				tb.Fatalf("CSV: a quote inside an unquoted cell at byte %d", i)
			}
			quoted = true
		case '\r':
			tb.Fatalf("CSV: a carriage return outside a quoted cell at byte %d", i)
		default:
			if closed {
				tb.Fatalf("CSV: text after a closing quote at byte %d", i)
			}
			cell = append(cell, c)
		}
	}
	if quoted || row != nil || cell != nil {
		tb.Fatal("CSV: the export ends inside a row")
	}
	return rows
}

// logEvents waits until the server's log holds at least want lines with
// msg "request" after byte from, gives a late line a moment to show, and
// returns the lines after from.
func logEvents(tb testing.TB, s *Server, from, want int, jsonFormat bool) []string {
	tb.Helper()
	isRequest := func(line string) bool {
		if jsonFormat {
			return strings.Contains(line, `"msg":"request"`)
		}
		return strings.Contains(line, " msg=request ")
	}
	count := func() (int, []string) {
		lines := strings.Split(strings.TrimSuffix(s.Logs()[from:], "\n"), "\n")
		n := 0
		for _, l := range lines {
			if isRequest(l) {
				n++
			}
		}
		return n, lines
	}
	deadline := time.Now().Add(time.Minute)
	for {
		n, _ := count()
		if n >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	n, lines := count()
	if n != want {
		tb.Fatalf("log: got %d request lines, want %d, one per request:\n%s", n, want, strings.Join(lines, "\n"))
	}
	return lines
}

// mustSafeLog checks every line of a log: one well-formed event per line
// (a JSON object, or text starting with time=), and no raw C0 control
// character (CR, LF, ESC, NUL...), C1 control or bidi control (the server
// escapes them in JSON lines); in text logs also no other raw format
// character, which slog's text handler quotes. (slog writes DEL as it is in
// both formats, and other format characters as they are in JSON.)
func mustSafeLog(tb testing.TB, lines []string, jsonFormat bool) []map[string]any {
	tb.Helper()
	var events []map[string]any
	for _, line := range lines {
		for _, c := range line {
			if c < 0x20 || rawLogControl(c) || (!jsonFormat && unicode.Is(unicode.Cf, c)) {
				tb.Fatalf("log line holds the raw character %U: %q", c, line)
			}
		}
		if !jsonFormat {
			if !strings.HasPrefix(line, "time=") || !strings.Contains(line, " level=") || !strings.Contains(line, " msg=") {
				tb.Fatalf("log line is not one event: %q", line)
			}
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil || m["msg"] == nil || m["level"] == nil {
			tb.Fatalf("log line is not one JSON event (%v): %q", err, line)
		}
		events = append(events, m)
	}
	return events
}

// TestHostile sends records whose every text field holds hostile text,
// reads them back through the API and the exports, sends text that is not
// UTF-8, hostile paths and a hostile login, and checks the server's log,
// in both log formats, and the web UI's page.
func TestHostile(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			jsonFormat := format == "json"
			srv := MustStart(t, "--log-format", format)
			a := srv.MustAccount(t, "hostile", true)
			// The log from here on: once the line of MustAccount's last
			// request, which enabled the audit trail, is in.
			enabled := `method=PATCH path=/api/v1/accounts/hostile `
			if jsonFormat {
				enabled = `"method":"PATCH","path":"/api/v1/accounts/hostile"`
			}
			for deadline := time.Now().Add(time.Minute); !strings.Contains(srv.Logs(), enabled) && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
			logFrom := len(srv.Logs())
			requests := 0
			do := func(method, path, cred string, body any) *Response {
				requests++
				return srv.Do(t, method, path, cred, body)
			}

			// Every string field, each hostile text; the values also at
			// exactly the limit of 64 KiB.
			var items []map[string]any
			for _, h := range hostileTexts {
				items = append(items, hostileRecord(h))
			}
			big := hostileRecord("big")
			big["old_value"], big["new_value"] = hostileValue(64<<10), "="+hostileValue(64<<10-1)
			items = append(items, big)
			long := hostileRecord(hostileValue(200)) // names up to 512 characters
			long["object_name"] = strings.Repeat("\u202e", 512)
			long["id"] = strings.Repeat("\x1b", 128)
			items = append(items, long)
			r := do("POST", a.path("/records"), a.Key, records(items...))
			if r.Status != 201 {
				t.Fatalf("POST records: got %d, want 201: %.500s", r.Status, r.Body)
			}
			stored := decodeRecords(t, r)
			if len(stored) != len(items) {
				t.Fatalf("got %d records, want %d", len(stored), len(items))
			}
			byID := map[string]map[string]any{}
			for i, rec := range stored {
				mustSameRecord(t, "POST answer", rec, items[i])
				byID[rec.ID] = items[i]
			}

			t.Run("Read", func(t *testing.T) {
				requests++
				list := srv.List(t, a, vals("object_type", "users", "limit", "1000"))
				seen := 0
				for _, rec := range list.Records {
					if item, ok := byID[rec.ID]; ok {
						mustSameRecord(t, "GET records", rec, item)
						seen++
					}
				}
				if seen != len(items) {
					t.Fatalf("GET records: found %d of the %d records", seen, len(items))
				}
				for _, rec := range stored[:2] {
					requests++
					var got Record
					if err := json.Unmarshal(srv.Must(t, 200, "GET", a.path("/records/"+rec.ID), a.AdminToken, nil).Body, &got); err != nil {
						t.Fatal(err)
					}
					mustSameRecord(t, "GET record", got, byID[rec.ID])
				}
			})

			t.Run("Idempotency", func(t *testing.T) {
				again := do("POST", a.path("/records"), a.Key, records(items[0], items[3]))
				if again.Status != 201 {
					t.Fatalf("retry: got %d, want 201: %s", again.Status, again.Body)
				}
				if got, want := ids(decodeRecords(t, again)), []string{stored[0].ID, stored[3].ID}; !slices.Equal(got, want) {
					t.Fatalf("retry: got records %v, want the first ones %v", got, want)
				}
				changed := hostileRecord(hostileTexts[0])
				changed["new_value"] = "other\r\n"
				MustError(t, do("POST", a.path("/records"), a.Key, records(changed)), 409, "idempotency_conflict")
			})

			t.Run("Exports", func(t *testing.T) {
				requests += 2
				q := vals("object_type", "users")
				body, _ := srv.mustExport(t, a, "ndjson", q)
				_, recs := exportNDJSON(t, body)
				seen := 0
				for _, rec := range recs {
					if item, ok := byID[rec.ID]; ok {
						mustSameRecord(t, "NDJSON export", rec, item)
						seen++
					}
				}
				if seen != len(items) {
					t.Fatalf("NDJSON export: found %d of the %d records", seen, len(items))
				}

				body, _ = srv.mustExport(t, a, "csv", q)
				rows := hostileCSV(t, body)
				if len(rows) == 0 || !slices.Equal(rows[0], exportHeader) {
					t.Fatalf("CSV header: got %q, want %q", rows[:min(1, len(rows))], exportHeader)
				}
				rows = rows[1:]
				for _, item := range items {
					o := item["originator"].(map[string]any)
					want := []string{"Users", safeCell(item["object_name"].(string)), "Edit", safeCell(item["element"].(string)),
						safeCell(item["old_value"].(string)), safeCell(item["new_value"].(string)), "", safeCell(o["name"].(string))}
					if !slices.ContainsFunc(rows, func(row []string) bool {
						if len(row) != len(want) {
							t.Fatalf("CSV row of %d cells, want %d: %q", len(row), len(want), row)
						}
						return slices.Equal(append(slices.Clone(row[:6]), "", row[7]), want)
					}) {
						t.Fatalf("CSV: no row holds %q", clipText(strings.Join(want, "|")))
					}
				}
			})

			t.Run("Limits", func(t *testing.T) {
				over := hostileRecord("over")
				over["new_value"] = hostileValue(64<<10 + 1)
				e := MustError(t, do("POST", a.path("/records"), a.Key, records(hostileRecord("ok"), over)), 422, "value_too_long")
				MustDetails(t, e, Detail{1, "new_value"})
				for _, field := range []string{"object_name", "object_id", "element"} {
					item := hostileRecord("x")
					item[field] = hostileValue(64 << 10)
					e := MustError(t, do("POST", a.path("/records"), a.Key, records(item)), 422, "value_too_long")
					MustDetails(t, e, Detail{0, field})
				}
				item := hostileRecord("x")
				item["originator"].(map[string]any)["name"] = strings.Repeat("\u202e", 513)
				MustDetails(t, MustError(t, do("POST", a.path("/records"), a.Key, records(item)), 422, "value_too_long"), Detail{0, "originator.name"})
				item = hostileRecord("x")
				item["id"] = strings.Repeat("\x01", 129)
				MustDetails(t, MustError(t, do("POST", a.path("/records"), a.Key, records(item)), 422, "value_too_long"), Detail{0, "id"})
			})

			t.Run("NotUTF8", func(t *testing.T) {
				before := srv.Count(t, a, nil)
				requests++
				ok, _ := json.Marshal(hostileRecord("fine"))
				for _, tt := range []struct {
					name, body string
					want       []Detail
				}{
					{"InvalidBytes", `{"records":[` + string(ok) + `,{"object_type":"users","object_name":"` + "bad\xff\xfe" + `","action_type":"edit","element":"e","originator":{"name":"` + "\xc3\x28" + `"}}]}`,
						[]Detail{{1, "object_name"}, {1, "originator.name"}}},
					{"Surrogate", `{"records":[{"object_type":"users","object_name":"x","action_type":"edit","element":"e","old_value":"\ud800","originator":{"name":"O"}}]}`,
						[]Detail{{0, "old_value"}}},
					{"EncodedSurrogate", `{"records":[{"object_type":"users","object_name":"` + "\xed\xa0\x80" + `","action_type":"edit","element":"e","originator":{"name":"O"}}]}`,
						[]Detail{{0, "object_name"}}},
					{"NUL", `{"records":[` + string(ok) + `,{"object_type":"users","object_name":"x","action_type":"edit","element":"e","new_value":"nul\u0000byte","originator":{"name":"O"}}]}`,
						[]Detail{{1, "new_value"}}},
				} {
					e := MustError(t, do("POST", a.path("/records"), a.Key, tt.body), 422, "validation_failed")
					MustDetails(t, e, tt.want...)
				}
				e := MustError(t, do("POST", a.path("/changes"), a.Key, `{"changes":[{"object_type":"users","object_name":"x","before":null,"after":{"name":"`+"\xff"+`"},"originator":{"name":"O"}}]}`), 422, "validation_failed")
				MustDetails(t, e, Detail{0, "after.name"})
				if got := srv.Count(t, a, nil); got != before {
					t.Fatalf("count: got %d, want %d: nothing stored", got, before)
				}
				requests++
			})

			t.Run("Paths", func(t *testing.T) {
				hostilePath := "/api/v1/accounts/hostile/records/%0D%0Aforged%1B%5B31m%00%E2%80%AE%C2%9B"
				MustError(t, do("GET", hostilePath+"?q=%0D%0Alevel%3DERROR", a.AdminToken, nil), 404, "not_found")
				MustError(t, do("GET", "/no%0Asuch%1B%5B2J?x=%00", "", nil), 404, "not_found")
				MustError(t, do("GET", a.path("/records")+"?q=%0D%0Alevel%3DERROR%1B%5B31m%00&object_name=%E2%80%AE&limit=%0A", a.AdminToken, nil), 400, "invalid_parameter")
				MustError(t, do("POST", "/api/v1/login", "", map[string]string{"account_id": "hostile", "login_name": "admin\r\nlevel=ERROR msg=forged\x1b[31m\x01\u202e", "password": "x\r\n"}), 401, "unauthenticated")
				MustError(t, do("POST", "/api/v1/login", "", map[string]string{"account_id": "hostile\n", "login_name": hostileTexts[4], "password": "correct horse battery"}), 401, "unauthenticated")
			})

			t.Run("Log", func(t *testing.T) {
				lines := logEvents(t, srv, logFrom, requests, jsonFormat)
				events := mustSafeLog(t, lines, jsonFormat)
				if !jsonFormat {
					if !strings.Contains(srv.Logs(), `path="/api/v1/accounts/hostile/records/\r\nforged\x1b[31m\x00\u202e\u009b"`) {
						t.Fatalf("text log: the hostile path is not quoted as Go quotes it:\n%s", srv.Logs()[logFrom:])
					}
					return
				}
				found := false
				for _, ev := range events {
					if ev["path"] == "/api/v1/accounts/hostile/records/\r\nforged\x1b[31m\x00\u202e\u009b" {
						found = true
					}
				}
				if !found {
					t.Fatalf("JSON log: no line holds the hostile path as it was:\n%s", srv.Logs()[logFrom:])
				}
			})

			t.Run("UI", func(t *testing.T) {
				from := len(srv.Logs())
				page := hostileUIPage(t, srv, a, "/audit-trail?object_type=users")
				if strings.Contains(page, "<script>alert") || !strings.Contains(page, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") {
					t.Fatalf("the page does not escape the record's markup:\n%s", page)
				}
				if strings.ContainsRune(page, 0) {
					t.Fatal("the page holds a raw NUL")
				}
				if !strings.Contains(page, "\u202eexe.txt") {
					t.Fatal("the page does not show the record with the right-to-left override")
				}
				hostileUIPage(t, srv, a, "/audit-trail/%0D%0Aforged%1B%5B31m%00")
				time.Sleep(100 * time.Millisecond)
				mustSafeLog(t, strings.Split(strings.TrimSuffix(srv.Logs()[from:], "\n"), "\n"), jsonFormat)
			})
		})
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// hostileUIPage signs in to the web UI as the account's administrator
// (through the form at /login, with its CSRF value) and returns the page
// at path.
func hostileUIPage(tb testing.TB, s *Server, a *Account, path string) string {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: time.Minute}
	get := func(p string) (int, string) {
		resp, err := c.Get(s.URL + p)
		if err != nil {
			tb.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	_, login := get("/login")
	m := csrfField.FindStringSubmatch(login)
	if m == nil {
		tb.Fatalf("no CSRF value in the sign-in form:\n%s", login)
	}
	resp, err := c.PostForm(s.URL+"/login", url.Values{"csrf": {m[1]}, "account_id": {a.ID}, "login_name": {"admin"}, "password": {"correct horse battery"}})
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	status, page := get(path)
	if status != 200 && !strings.Contains(path, "%") {
		tb.Fatalf("GET %s: got %d, want 200:\n%s", path, status, page)
	}
	return page
}
