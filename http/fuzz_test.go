package http

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/ingest"
	"github.com/audittrail/audittrail/service"
)

// Hostile text that every fuzz target of the package starts from.
var hostile = []string{
	"line one\r\nline two", "\x1b[31mred\x1b[0m", "nul\x00byte", "\u202eevil.exe", "\u2028\u2029", "\x7f\u0085\u009b31m",
	`"quoted" \ back\slash`, "<script>alert(1)</script>", "=HYPERLINK(\"x\")", "é😀", "\ufeff", "",
}

// contractCodes are the error codes of SPEC §6 that a client may get.
var contractCodes = map[string]bool{}

func init() {
	for _, code := range audittrail.ErrorCodes() {
		if code != audittrail.EINTERNAL {
			contractCodes[code] = true
		}
	}
}

// mustClientError fails unless err is nil or a client error of the contract.
func mustClientError(tb testing.TB, err error) {
	tb.Helper()
	if err == nil {
		return
	}
	code := audittrail.ErrorCode(err)
	if status := ErrorStatusCode(code); !contractCodes[code] || status < 400 || status >= 500 {
		tb.Fatalf("got %v (status %d), want a client error of the contract", err, status)
	}
}

// jsonString writes s as a JSON string with its bytes as they are: only
// quotes, backslashes and control characters are escaped, so invalid UTF-8
// reaches the server raw, as a careless client would send it.
func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// TestCheckText: text that is not UTF-8 is refused with a detail naming
// where it is; escapes of surrogate pairs and escaped backslashes are text.
func TestCheckText(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		want       []audittrail.ErrorDetail // index and field
	}{
		{"OK", `{"records":[{"object_name":"\ud83d\ude00 \\ud800 \u00e9 é"}]}`, nil},
		{"ErrItemField", "{\"records\":[{},{\"object_name\":\"\xff\"}]}", []audittrail.ErrorDetail{{Index: 1, Field: "object_name"}}},
		{"ErrNested", "{\"records\":[{\"originator\":{\"name\":\"ok\",\"profiles\":[\"a\",\"\xc3\"]}}]}", []audittrail.ErrorDetail{{Index: 0, Field: "originator.profiles[1]"}}},
		{"ErrLoneHigh", `{"changes":[{"after":{"a":{"b":"x\ud800y"}}}]}`, []audittrail.ErrorDetail{{Index: 0, Field: "after.a.b"}}},
		{"ErrLoneLow", `{"login_name":"\uDC00"}`, []audittrail.ErrorDetail{{Index: 0, Field: "login_name"}}},
		{"ErrHighThenHigh", `{"a":"\ud800\ud800"}`, []audittrail.ErrorDetail{{Index: 0, Field: "a"}}},
		{"ErrNotBatch", "{\"permissions\":[\"ok\",\"\xff\"]}", []audittrail.ErrorDetail{{Index: 0, Field: "permissions[1]"}}},
		{"ErrKey", "{\"records\":[{\"after\":{\"k\xff\":1}}]}", []audittrail.ErrorDetail{{Index: 0, Field: "after.k\ufffd"}}},
		{"ErrTop", "\"\xff\"", []audittrail.ErrorDetail{{Index: 0, Field: "(the body)"}}},
		{"ErrMany", "{\"records\":[{\"object_name\":\"\xff\",\"element\":\"\xfe\"}]}", []audittrail.ErrorDetail{{Index: 0, Field: "object_name"}, {Index: 0, Field: "element"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var v any
			err := decodeJSON(httptest.NewRequest("POST", "/", strings.NewReader(tt.body)), &v)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			var e *audittrail.Error
			if !errorsAs(err, &e) || e.Code != audittrail.EVALIDATION || ErrorStatusCode(e.Code) != http.StatusUnprocessableEntity {
				t.Fatalf("got %v, want %s (422)", err, audittrail.EVALIDATION)
			}
			var got []audittrail.ErrorDetail
			for _, d := range e.Details {
				got = append(got, audittrail.ErrorDetail{Index: d.Index, Field: d.Field})
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got details %+v, want %+v", got, tt.want)
			}
		})
	}
}

// FuzzDecodeJSON feeds any body to the decoder of every JSON route: it
// answers invalid_json, body_too_large or, for text that is not UTF-8
// (invalid bytes, a lone surrogate escape), validation_failed with a
// detail for each such string; what it accepts holds only the text that
// was sent: never a U+FFFD that the body did not spell.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"records":[{"object_name":"ok"}]}`,
		"{\"records\":[{\"object_name\":\"\xff\"}]}",
		"{\"records\":[{\"a\":1},{\"originator\":{\"name\":\"\xc3\x28\"}}]}",
		`{"records":[{"object_name":"\ud800"}]}`,
		`{"records":[{"object_name":"\udc00\ud800"}]}`,
		`{"records":[{"object_name":"\ud83d\ude00"}]}`,
		`{"records":[{"object_name":"\\ud800"}]}`,
		`{"changes":[{"after":{"k\udfff":"v"}}]}`,
		`{"login_name":"\u0000\u001b[31m\u202e","password":"\ufffd"}`,
		"{\"login_name\":\"\xed\xa0\x80\"}",
		"\"\xff\"", "[\"\xff\",[\"\xfe\"]]", "{\"\xff\":1}", "\xff", `{"a":"\uD800\uDC00"}`, `{"a":"\uD800\u0041"}`, `{}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		var v any
		err := decodeJSON(r, &v)
		switch code := audittrail.ErrorCode(err); code {
		case "":
			if !utf8.Valid(body) {
				t.Fatalf("accepted a body that is not UTF-8: %q", body)
			}
			lower := bytes.ToLower(body)
			spelled := bytes.Contains(body, []byte("\ufffd")) || bytes.Contains(lower, []byte(`\ufffd`))
			walk(v, func(s string) {
				if !utf8.ValidString(s) || (strings.ContainsRune(s, utf8.RuneError) && !spelled) {
					t.Fatalf("decoded %q from %q: text the body did not hold", s, body)
				}
			})
		case audittrail.EVALIDATION:
			var e *audittrail.Error
			if !errorsAs(err, &e) || len(e.Details) == 0 {
				t.Fatalf("got %v, want details", err)
			}
			for _, d := range e.Details {
				if d.Field == "" || d.Message == "" || d.Index < 0 {
					t.Fatalf("detail %+v: want an index, a field and a message", d)
				}
			}
			if utf8.Valid(body) && !bytes.Contains(bytes.ToLower(body), []byte(`\ud`)) && !bytes.Contains(body, []byte(`\u0000`)) {
				t.Fatalf("refused UTF-8 text %q: %v", body, err)
			}
			if !json.Valid(body) {
				t.Fatalf("refused as text what is not JSON: %q", body)
			}
		case audittrail.EINVALIDJSON, audittrail.EBODYTOOLARGE:
		default:
			t.Fatalf("got %v, want invalid_json, body_too_large or validation_failed", err)
		}
	})
}

func errorsAs(err error, e **audittrail.Error) bool {
	x, ok := err.(*audittrail.Error)
	*e = x
	return ok
}

// walk calls fn with every string of a decoded JSON value, member names
// included.
func walk(v any, fn func(string)) {
	switch v := v.(type) {
	case string:
		fn(v)
	case []any:
		for _, x := range v {
			walk(x, fn)
		}
	case map[string]any:
		for k, x := range v {
			fn(k)
			walk(x, fn)
		}
	}
}

// ingestFixture is an ingester at a fixed clock and an enabled account.
func ingestFixture(tb testing.TB) (*ingest.Ingester, *audittrail.Account, time.Time) {
	tb.Helper()
	cat, err := audittrail.NewCatalog(nil)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	in := ingest.New(cat, func() time.Time { return now })
	at := now.Add(-24 * time.Hour)
	return in, &audittrail.Account{ID: "acme", AuditTrailEnabled: true, AuditTrailEnabledAt: &at}, now
}

// FuzzIngestFaithful sends one record (or one change of the element
// nickname) whose every text field comes from the fuzzer, through the
// decoder and the ingester. Either it is accepted and every value is kept
// byte for byte (the element as its label; a value of a sensitive element
// as ********), or it is refused with a client error of the contract; a
// field that is not UTF-8 is refused with a detail naming it; a value
// over its limit is refused with value_too_long.
func FuzzIngestFaithful(f *testing.F) {
	long := strings.Repeat("x", ingest.MaxValueBytes)
	f.Add(false, uint8(1), "Jane\r\nDoe", "u-1\x00", "email", "a\x1b[31m@x", "b\u202e@x", "Olivia\nAdmin", "o-1\r", "ada\x1b]0;x\x07", "curl/8\r\nX-Injected: 1", "key\x00\n", "2026-11-25T11:00:00.123456Z")
	f.Add(true, uint8(1), "Jane", "u-1", "nickname", "\x00", "\u202e", "O", "", "", "", "k", "")
	f.Add(false, uint8(1), "n", "", "Member of", long, long+"y", "O", "", "", "", "", "")
	f.Add(false, uint8(0), "n", "", "password", "", "\xff", "O", "", "", "", "", "")
	f.Add(true, uint8(1), "\xc3\x28", "\xff", "nickname", "old\xfe", "new", "\xed\xa0\x80", "", "", "", "\x80", "")
	f.Add(false, uint8(2), strings.Repeat("é", 512), strings.Repeat("x", 513), "e", "gone", "", "O", "", "", "", strings.Repeat("k", 129), "2026-11-25T12:06:00Z")
	f.Add(false, uint8(1), "n", "", "element", "=1+2", "-3", "@O", "", "", "\t", "", "2026-11-24T11:00:00+25:00")
	for _, h := range hostile {
		f.Add(false, uint8(1), h, h, h, h, h, h, h, h, h, h, "")
	}
	in, acct, now := ingestFixture(f)
	typ, _ := in.Catalog.Type("users")
	f.Fuzz(func(t *testing.T, change bool, action uint8, objectName, objectID, element, oldV, newV, origName, origID, loginName, userAgent, id, date string) {
		actions := []string{audittrail.ActionAdd, audittrail.ActionEdit, audittrail.ActionDelete, "rename"}
		act := actions[int(action)%len(actions)]
		orig := fmt.Sprintf(`{"name":%s,"id":%s,"login_name":%s,"user_agent":%s,"profiles":[%s]}`,
			jsonString(origName), jsonString(origID), jsonString(loginName), jsonString(userAgent), jsonString(loginName))
		common := fmt.Sprintf(`"object_type":"users","object_id":%s,"object_name":%s,"originator":%s,"id":%s`,
			jsonString(objectID), jsonString(objectName), orig, jsonString(id))
		if date != "" {
			common += `,"date":` + jsonString(date)
		}
		var body string
		if change {
			element = "nickname"
			body = fmt.Sprintf(`{"changes":[{%s,"before":{"nickname":%s},"after":{"nickname":%s}}]}`, common, jsonString(oldV), jsonString(newV))
		} else {
			body = fmt.Sprintf(`{"records":[{%s,"action_type":%s,"element":%s,"old_value":%s,"new_value":%s}]}`,
				common, jsonString(act), jsonString(element), jsonString(oldV), jsonString(newV))
		}
		fields := map[string]string{"object_name": objectName, "object_id": objectID, "originator.name": origName, "originator.id": origID,
			"originator.login_name": loginName, "originator.user_agent": userAgent, "originator.profiles[0]": loginName, "id": id, "date": date}
		if change {
			fields["before.nickname"], fields["after.nickname"] = oldV, newV
		} else {
			fields["element"], fields["old_value"], fields["new_value"], fields["action_type"] = element, oldV, newV, act
		}

		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		var req struct {
			Records []ingest.RecordInput `json:"records"`
			Changes []ingest.ChangeInput `json:"changes"`
		}
		err := decodeJSON(r, &req)
		var entries []audittrail.Entry
		if err == nil {
			if change {
				entries, err = in.PrepareChanges(acct, req.Changes, "fuzz")
			} else {
				entries, err = in.PrepareRecords(acct, req.Records, "fuzz")
			}
		}

		// Text that is not UTF-8, or holds NUL, is refused, naming every
		// such field.
		var bad []string
		for name, v := range fields {
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				bad = append(bad, name)
			}
		}
		if len(bad) > 0 {
			var e *audittrail.Error
			if !errorsAs(err, &e) || e.Code != audittrail.EVALIDATION {
				t.Fatalf("fields %v are not UTF-8: got %v, want %s", bad, err, audittrail.EVALIDATION)
			}
			for _, name := range bad {
				if !slices.ContainsFunc(e.Details, func(d audittrail.ErrorDetail) bool { return d.Index == 0 && d.Field == name }) {
					t.Fatalf("field %s is not UTF-8: got details %+v, want one naming it", name, e.Details)
				}
			}
			return
		}
		mustClientError(t, err)
		if err != nil {
			if len(oldV) > ingest.MaxValueBytes || len(newV) > ingest.MaxValueBytes {
				return
			}
			var e *audittrail.Error
			if errorsAs(err, &e) {
				for _, d := range e.Details {
					if d.Code == audittrail.EVALUETOOLONG && strings.Contains(d.Field, "value") {
						t.Fatalf("values of %d and %d bytes: got %+v, want them accepted", len(oldV), len(newV), d)
					}
				}
			}
			return
		}

		// Accepted: every value as it was sent.
		if len(oldV) > ingest.MaxValueBytes || len(newV) > ingest.MaxValueBytes {
			t.Fatalf("accepted values of %d and %d bytes, over %d", len(oldV), len(newV), ingest.MaxValueBytes)
		}
		for name, v := range map[string]string{"object_name": objectName, "originator.name": origName, "element": element} {
			if utf8.RuneCountInString(v) > ingest.MaxNameChars {
				t.Fatalf("accepted %s of %d characters", name, utf8.RuneCountInString(v))
			}
		}
		if len(entries) != 1 {
			t.Fatalf("got %d entries, want 1", len(entries))
		}
		recs := entries[0].Records
		if change && oldV == newV {
			if len(recs) != 0 {
				t.Fatalf("an edit without difference made %d records", len(recs))
			}
			return
		}
		if len(recs) != 1 {
			t.Fatalf("got %d records, want 1", len(recs))
		}
		rec := recs[0]
		o := rec.Originator
		for _, c := range [][3]string{
			{"object_id", rec.ObjectID, objectID}, {"object_name", rec.ObjectName, objectName}, {"object_type", rec.ObjectType, "users"},
			{"originator.name", o.Name, origName}, {"originator.id", o.ID, origID}, {"originator.login_name", o.LoginName, loginName},
			{"originator.user_agent", o.UserAgent, userAgent},
		} {
			if c[1] != c[2] {
				t.Fatalf("%s: got %q, want %q", c[0], c[1], c[2])
			}
		}
		if len(o.Profiles) != 1 || o.Profiles[0] != loginName {
			t.Fatalf("originator.profiles: got %q, want [%q]", o.Profiles, loginName)
		}
		label, sensitive := typ.Describe(element)
		if rec.Element != element && rec.Element != label {
			t.Fatalf("element: got %q, want %q or its label %q", rec.Element, element, label)
		}
		wantOld, wantNew := oldV, newV
		if sensitive {
			wantOld, wantNew = redacted(oldV), redacted(newV)
		}
		if rec.OldValue != wantOld || rec.NewValue != wantNew {
			t.Fatalf("values: got %q → %q, want %q → %q", clipQ(rec.OldValue), clipQ(rec.NewValue), clipQ(wantOld), clipQ(wantNew))
		}
		if date != "" {
			d, err := time.Parse(time.RFC3339Nano, date)
			if err != nil || !rec.Date.Equal(audittrail.TruncateTime(d)) {
				t.Fatalf("date %q: got %v (%v)", date, rec.Date, err)
			}
		} else if !rec.Date.Equal(now) {
			t.Fatalf("date: got %v, want now %v", rec.Date, now)
		}
		// The API's date reads back as the same instant.
		if back, err := time.Parse(time.RFC3339Nano, audittrail.FormatTime(rec.Date)); err != nil || !back.Equal(rec.Date) {
			t.Fatalf("date %v is written as %q, which reads back as %v (%v)", rec.Date, audittrail.FormatTime(rec.Date), back, err)
		}
	})
}

func redacted(v string) string {
	if v == "" {
		return ""
	}
	return audittrail.Redacted
}

func clipQ(s string) string {
	if len(s) > 80 {
		return s[:80] + fmt.Sprintf("…(%d bytes)", len(s))
	}
	return s
}

// cheapHash is an Argon2id hash in the format of audittrail.HashPassword
// with the smallest cost, so that a fuzzer can try many logins a second.
func cheapHash(pw string) string {
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte(pw), salt, 1, 8, 1, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=8,t=1,p=1$%s$%s", argon2.Version, enc.EncodeToString(salt), enc.EncodeToString(key))
}

// logLines returns the lines of a log buffer, and fails if the log does
// not end with a newline.
func logLines(tb testing.TB, b []byte) []string {
	tb.Helper()
	if len(b) == 0 {
		return nil
	}
	if b[len(b)-1] != '\n' {
		tb.Fatalf("log does not end with a newline: %q", b)
	}
	return strings.Split(string(b[:len(b)-1]), "\n")
}

// mustOneLogLine checks that a request left exactly one line in the log,
// with no raw control character, and returns it decoded when the log is
// JSON (nil for text).
func mustOneLogLine(tb testing.TB, log []byte, jsonFormat bool) map[string]any {
	tb.Helper()
	lines := logLines(tb, log)
	if len(lines) != 1 {
		tb.Fatalf("got %d log lines, want 1: %q", len(lines), log)
	}
	line := lines[0]
	for _, c := range line {
		// C0 controls (CR, LF, ESC, NUL...) never: they are what forges a
		// line or drives a terminal. In text logs, slog also quotes the C1
		// controls and the invisible formatting characters (bidi
		// overrides); its JSON handler writes those as they are, valid
		// JSON, and neither handler escapes DEL.
		if c < 0x20 || (!jsonFormat && (c >= 0x80 && c <= 0x9f || unicode.Is(unicode.Cf, c))) {
			tb.Fatalf("log line holds the raw character %U: %q", c, line)
		}
	}
	if !jsonFormat {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		tb.Fatalf("log line is not JSON: %v: %q", err, line)
	}
	return m
}

// FuzzLogin posts any body to POST /api/v1/login: the answer is a token
// only for the right account, login name and password, else a client error
// of the contract (never a 5xx); the request leaves one log line, which
// holds nothing of the body.
func FuzzLogin(f *testing.F) {
	for _, s := range []string{
		`{"account_id":"acme","login_name":"ada","password":"correct horse"}`,
		`{"account_id":"acme","login_name":"ada","password":"wrong horse"}`,
		`{"account_id":"acme","login_name":"ada\r\n\u001b[31madmin\u0000\u202e","password":"x"}`,
		`{"account_id":"acme\n","login_name":"ada","password":"correct horse"}`,
		"{\"account_id\":\"acme\",\"login_name\":\"\xffada\",\"password\":\"correct horse\"}",
		`{"account_id":"acme","login_name":"ada","password":"correct horse","admin":true}`,
		`{"account_id":"acme","login_name":"ada"}`, `{}`, `[]`, ``, `{"login_name":1}`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	var logs [2]bytes.Buffer
	var servers [2]*testServer
	for i := range servers {
		var h slog.Handler = slog.NewTextHandler(&logs[i], nil)
		if i == 1 {
			h = slog.NewJSONHandler(&logs[i], nil)
		}
		servers[i] = newTestServer(f, testOptions{Logger: slog.New(h), LoginAttempts: 1 << 30})
		// One user, ada of account acme, whose password hash is cheap.
		if _, _, err := servers[i].svc.CreateAccount(context.Background(), service.Local(), service.AccountInput{ID: "acme", Name: "Acme",
			Admin: service.AdminInput{LoginName: "admin", Password: "not the password"}}); err != nil {
			f.Fatal(err)
		}
		servers[i].change(f, "acme", func(tx audittrail.Tx) error {
			admin, err := tx.FindUserByLogin("acme", "admin")
			if err != nil {
				return err
			}
			admin.LoginName, admin.PasswordHash = "ada", cheapHash("correct horse")
			return tx.UpdateUser(admin)
		})
	}
	f.Fuzz(func(t *testing.T, body []byte, jsonLog bool) {
		i := 0
		if jsonLog {
			i = 1
		}
		logs[i].Reset()
		w := httptest.NewRecorder()
		servers[i].ServeHTTP(w, httptest.NewRequest("POST", "/api/v1/login", bytes.NewReader(body)))

		var creds loginRequest
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		right := dec.Decode(&creds) == nil && utf8.Valid(body) && !dec.More() &&
			creds == loginRequest{AccountID: "acme", LoginName: "ada", Password: "correct horse"}
		switch {
		case w.Code == http.StatusOK:
			var out struct{ Token, ExpiresAt string }
			if !right || json.Unmarshal(w.Body.Bytes(), &out) != nil || !strings.HasPrefix(out.Token, "att_") {
				t.Fatalf("got 200 %s for %q", w.Body, body)
			}
		case right:
			t.Fatalf("got %d %s for the right credentials", w.Code, w.Body)
		default:
			var e errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || !contractCodes[e.Error.Code] || ErrorStatusCode(e.Error.Code) != w.Code || w.Code >= 500 {
				t.Fatalf("got %d %s, want a client error of the contract", w.Code, w.Body)
			}
		}
		// The line holds the request's fixed attributes and nothing of the body.
		line := mustOneLogLine(t, logs[i].Bytes(), jsonLog)
		for k, v := range line {
			switch k {
			case "time", logDuration, logBytes:
			case "level":
				if v != "INFO" {
					t.Fatalf("log line %v: want level INFO", line)
				}
			case "msg":
				if v != "request" {
					t.Fatalf("log line %v: want msg request", line)
				}
			case logMethod, logPath, logRoute, logStatus:
				if want := map[string]any{logMethod: "POST", logPath: "/api/v1/login", logRoute: "POST /api/v1/login", logStatus: float64(w.Code)}[k]; v != want {
					t.Fatalf("log line %v: %s is %v, want %v", line, k, v, want)
				}
			default:
				t.Fatalf("log line %v: unexpected attribute %s", line, k)
			}
		}
	})
}

// logEnv is a server over a real store, an account with its audit trail
// on, and a viewer's token and a publisher key, for FuzzRequestLog.
type logEnv struct {
	srv        [2]*testServer // text log, JSON log
	logs       [2]*bytes.Buffer
	creds      [3]string // none, a viewer's token, a publisher key
	recordPath string
}

func newLogEnv(tb testing.TB) *logEnv {
	tb.Helper()
	const operatorToken = "operator-token-log-0123456789abcdef"
	e := &logEnv{}
	for i := range e.srv {
		e.logs[i] = &bytes.Buffer{}
		var h slog.Handler = slog.NewTextHandler(e.logs[i], nil)
		if i == 1 {
			h = slog.NewJSONHandler(e.logs[i], nil)
		}
		o := testOptions{Logger: slog.New(h), OperatorToken: operatorToken}
		if i > 0 {
			o.Store = e.srv[0].store
		}
		e.srv[i] = newTestServer(tb, o)
	}
	do := func(want int, method, path, cred string, body any) map[string]any {
		b, _ := json.Marshal(body)
		r := httptest.NewRequest(method, path, bytes.NewReader(b))
		r.Header.Set("Authorization", "Bearer "+cred)
		w := httptest.NewRecorder()
		e.srv[0].ServeHTTP(w, r)
		if w.Code != want {
			tb.Fatalf("%s %s: got %d, want %d: %s", method, path, w.Code, want, w.Body)
		}
		var m map[string]any
		json.Unmarshal(w.Body.Bytes(), &m)
		return m
	}
	do(201, "POST", "/api/v1/accounts", operatorToken, map[string]any{"id": "acme", "name": "Acme",
		"admin": map[string]any{"login_name": "admin", "name": "Ada", "password": "log-password-1"}})
	e.creds[1] = do(200, "POST", "/api/v1/login", "", map[string]any{"account_id": "acme", "login_name": "admin", "password": "log-password-1"})["token"].(string)
	do(200, "PATCH", "/api/v1/accounts/acme", e.creds[1], map[string]any{"audit_trail_enabled": true})
	e.creds[2] = do(201, "POST", "/api/v1/accounts/acme/publisher-keys", e.creds[1], map[string]any{"name": "platform"})["key"].(string)
	recs := do(201, "POST", "/api/v1/accounts/acme/records", e.creds[2], map[string]any{"records": []any{map[string]any{
		"object_type": "users", "object_name": "Jane\r\n\x1b[31m\u202e", "action_type": "edit", "element": "name",
		"old_value": "a\x01", "new_value": "b", "originator": map[string]any{"name": "O\nO"}}}})
	e.recordPath = "/api/v1/accounts/acme/records/" + recs["records"].([]any)[0].(map[string]any)["id"].(string)
	return e
}

// validMethod reports whether m is an HTTP token, as net/http requires of
// a request's method before any handler sees it.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range []byte(m) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// FuzzRequestLog sends any method, path, query and body, with no
// credential, a viewer's token or a publisher key, through the whole API
// over a real store: never a 5xx, and exactly one log line per request,
// text or JSON, with no raw control character; the JSON line holds the
// path as it was.
func FuzzRequestLog(f *testing.F) {
	seeds := []struct {
		method, path, query, body string
		cred                      uint8
	}{
		{"GET", "/api/v1/accounts/acme/records", "q=%0D%0Ainjected%3D1&from=2026-01-01T00:00:00Z", "", 1},
		{"GET", "/api/v1/accounts/acme/records/count", "object_name=%1B%5B31m", "", 1},
		{"GET", "/api/v1/accounts/acme/records/x\r\ny\x1b[31m\x00\u202e", "", "", 1},
		{"GET", "/no/such\r\npath level=ERROR msg=forged", "a=%00", "", 0},
		{"GET", "/api/v1/accounts/acme/records/export.csv", "object_type=users", "", 1},
		{"GET", "/api/v1/accounts/acme/records/export.ndjson", "", "", 1},
		{"GET", "/api/v1/accounts/acme/consistency", "from=0&to=1", "", 1},
		{"GET", "/api/v1/accounts/acme/checkpoint", "", "", 1},
		{"POST", "/api/v1/accounts/acme/records", "", `{"records":[{"object_type":"users","object_name":"a\r\nb","action_type":"add","element":"e\u001b","new_value":"\u0000","originator":{"name":"\u202e"}}]}`, 2},
		{"POST", "/api/v1/accounts/acme/changes", "", "{\"changes\":[{\"object_type\":\"users\",\"object_name\":\"\xff\",\"after\":{\"a\":1},\"originator\":{\"name\":\"O\"}}]}", 2},
		{"POST", "/api/account/acme/configuration/metadata/audit", "", `{"query":"{auditData(timezone: \"\\r\\n\") {objectName}}"}`, 1},
		{"GET", "/api/account/acme/configuration/metadata/audit/export", "timezone=%0A&fromDate=2026-01-01", "", 1},
		{"POST", "/api/v1/login", "", `{"account_id":"acme","login_name":"admin\r\nlevel=ERROR","password":"x"}`, 0},
		{"DELETE", "/healthz", "", "", 0},
		{"BREW", "/metrics\x7f", "", "", 0},
		{"GET", "/api/v1/object-types", "", "", 2},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.body, s.cred, false)
		f.Add(s.method, s.path, s.query, s.body, s.cred, true)
	}
	e := newLogEnv(f)
	f.Add("GET", e.recordPath, "", "", uint8(1), true)
	f.Add("GET", e.recordPath+"/proof", "tree_size=1", "", uint8(1), false)
	f.Fuzz(func(t *testing.T, method, path, rawQuery, body string, cred uint8, jsonLog bool) {
		if !validMethod(method) {
			method = "GET"
		}
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		i := 0
		if jsonLog {
			i = 1
		}
		e.logs[i].Reset()
		r := httptest.NewRequest("GET", "/", strings.NewReader(body))
		r.Method, r.URL.Path, r.URL.RawQuery = method, path, rawQuery
		if c := e.creds[int(cred)%len(e.creds)]; c != "" {
			r.Header.Set("Authorization", "Bearer "+c)
		}
		w := httptest.NewRecorder()
		e.srv[i].ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %q ?%q: got %d %s", method, path, rawQuery, w.Code, w.Body)
		}
		line := mustOneLogLine(t, e.logs[i].Bytes(), jsonLog)
		if line == nil {
			return
		}
		if line["msg"] != "request" || line[logStatus] != float64(w.Code) || line[logMethod] != method {
			t.Fatalf("log line %v: want the request %s with status %d", line, method, w.Code)
		}
		if utf8.ValidString(path) && line[logPath] != path {
			t.Fatalf("log line path %q, want %q", line[logPath], path)
		}
	})
}
