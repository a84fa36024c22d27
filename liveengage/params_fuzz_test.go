package liveengage

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/service"
)

// fuzzHandler is a handler over a service of the built-in catalog,
// without a store: enough to check arguments.
func fuzzHandler(tb testing.TB) (*Handler, time.Time) {
	tb.Helper()
	cat, err := audittrail.NewCatalog(nil)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	svc := service.New(nil, cat, nil, service.DefaultConfig(), func() time.Time { return now }, nil)
	return New(svc), now
}

// checkSearch checks what newSearch made of p: either an argument error
// naming one of the arguments, or a search within the retention window,
// of known component types and bounded users, in a time zone that loaded.
func checkSearch(t *testing.T, h *Handler, p params, now time.Time) *search {
	t.Helper()
	s, err := h.newSearch("acme", p, now)
	if err != nil {
		var ae *argError
		if !errors.As(err, &ae) || ae.Message == "" || !slices.Contains([]string{"fromDate", "toDate", "orderBy", "orderDirection", "users", "componentTypes", "language", "timezone"}, ae.Arg) {
			t.Fatalf("newSearch(%+v): got %v, want an argument error", p, err)
		}
		return nil
	}
	if s.loc == nil || s.zone != p.timezone {
		t.Fatalf("newSearch(%+v): zone %q loaded as %v", p, s.zone, s.loc)
	}
	if s.from.Before(h.svc.Config().Retention.Start(now)) {
		t.Fatalf("newSearch(%+v): from %v is before the retention window", p, s.from)
	}
	if p.fromDate != "" && s.to != nil {
		from, err := parseDay("fromDate", p.fromDate, s.loc)
		if err != nil || s.to.Before(from) {
			t.Fatalf("newSearch(%+v): to %v is before fromDate %v (%v)", p, s.to, from, err)
		}
	}
	for _, typ := range s.types {
		if _, ok := h.svc.Catalog().Type(typ.Key); !ok {
			t.Fatalf("newSearch(%+v): type %q is not in the catalog", p, typ.Key)
		}
	}
	if len(s.users) > maxUsers {
		t.Fatalf("newSearch(%+v): %d users", p, len(s.users))
	}
	for _, u := range s.users {
		if u == "" || utf8.RuneCountInString(u) > 512 {
			t.Fatalf("newSearch(%+v): user %q", p, u)
		}
	}
	// What the answer shows of the search: the filter, and dates in its zone.
	f := s.filter()
	if f.AccountID != "acme" || f.From == nil || !f.From.Equal(s.from) || f.ExcludeLPA == p.lpa || f.ExcludeAutomatic == p.automatic ||
		!slices.Equal(f.Originators, s.users) || len(f.ObjectTypes) != len(s.types) {
		t.Fatalf("filter %+v of search %+v", f, s)
	}
	_ = s.from.In(s.loc).Format(ChangeDateFormat)
	return s
}

// FuzzExportParams reads the query of the export method: it refuses with
// invalid_parameter or an argument error, or gives a limit in bounds and a
// search that checkSearch accepts.
func FuzzExportParams(f *testing.F) {
	for _, q := range []string{
		"", "fromDate=2026-01-01&toDate=2026-01-31&limit=10&timezone=Europe/Paris&language=fr-FR",
		"fromDate=2026-02-01&toDate=2026-01-31", "fromDate=2026-02-30", "fromDate=0000-01-01&timezone=GMT%2B14:00",
		"toDate=9999-12-31&timezone=UTC-12", "timezone=../../../etc/passwd", "timezone=%2Fetc%2Flocaltime", "timezone=Local", "timezone=",
		"timezone=US%2FEastern%0D%0A", "timezone=%2B0530", "timezone=GMT%2B99:99", "timezone=UTC-5:7",
		"users=o-1,Olivia&users=%1B%5B31m&componentTypes=ACUserObject,skills,ACNoSuchObject",
		"componentTypes=acuserobject,USERS", "orderBy=changeDate&orderDirection=asc", "orderDirection=ASC,DESC", "orderBy=objectName",
		"lpa=1&automaticUpdates=F", "lpa=yes", "limit=0", "limit=2147483648", "limit=-1", "limit=%2B7",
		"language=" + strings.Repeat("a", 9), "language=en-US-%0A", "users=" + strings.Repeat("é", 513),
	} {
		f.Add(q)
	}
	h, now := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, rawQuery string) {
		q := (&url.URL{RawQuery: rawQuery}).Query()
		p, limit, err := exportParams(q)
		if err != nil {
			if code := audittrail.ErrorCode(err); code != audittrail.EINVALIDPARAMETER {
				t.Fatalf("%q: got %v, want %s", rawQuery, err, audittrail.EINVALIDPARAMETER)
			}
			return
		}
		if limit < 1 || limit > MaxOffset {
			t.Fatalf("%q: limit %d", rawQuery, limit)
		}
		checkSearch(t, h, p, now)
	})
}

// FuzzGraphQLBody reads any body of the audit method, as JSON or as
// application/graphql, and prepares its call: the answer is a call or
// GraphQL errors (never both, never a panic), the errors encode as JSON,
// and the arguments of auditData make a search or an argument error that
// points at them.
func FuzzGraphQLBody(f *testing.F) {
	for _, s := range []struct{ body, contentType string }{
		{`{"query": "{auditData(fromDate: \"2026-01-01\", toDate: \"2026-01-31\", timezone: \"Europe/Paris\") {objectName changeDate}}"}`, "application/json"},
		{`{"query": "query Q($tz: String) {auditData(timezone: $tz) {objectName}}", "variables": {"tz": "GMT+02:00"}}`, "application/json"},
		{`{"query": "query Q($tz: String) {auditData(timezone: $tz) {objectName}}", "variables": "{\"tz\": \"\\r\\n\"}"}`, ""},
		{`{"query": "{auditData(users: [\"\u001b[31m\", \"\u202e\"], componentTypes: [ACUserObject]) {originator}}", "operationName": null}`, "application/json; charset=utf-8"},
		{`{"query": "{auditData(fromDate: \"2026-02-30\") {element}}"}`, "application/json"},
		{`{"query": "{auditData(language: \"\u0000\") {element}}"}`, "application/json"},
		{"{\"query\": \"{auditData {element}}\xff\"}", "application/json"},
		{`{auditData(orderDirection: "sideways") {oldValue}}`, "application/graphql"},
		{`{"query": "{auditData {element}}"} {"query": "again"}`, "application/json"},
		{`{"query": ""}`, ""}, {``, ""}, {`[]`, ""}, {`{"query": 7}`, ""}, {`{"variables": []}`, ""},
		{`{"query": "query Q($n: Int) {auditData(first: $n) {element}}", "variables": {"n": 1e400}}`, ""},
	} {
		f.Add([]byte(s.body), s.contentType)
	}
	h, now := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		req, gerr := readGraphQLRequest(bytes.NewReader(body), contentType)
		if gerr != nil {
			if gerr.Message == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		c, errs := prepare(req)
		if (c == nil) == (errs == nil) {
			t.Fatalf("got call %v and errors %v, want exactly one", c, errs)
		}
		if errs != nil {
			qe := &QueryError{errs}
			b, err := json.Marshal(qe)
			var out struct {
				Errors []struct {
					Message string `json:"message"`
				} `json:"errors"`
			}
			if err == nil {
				err = json.Unmarshal(b, &out)
			}
			if err != nil || len(out.Errors) == 0 || audittrail.ErrorCode(qe) != audittrail.EINVALIDPARAMETER {
				t.Fatalf("errors %v encode as %q (%v)", errs, b, err)
			}
			return
		}
		if c.audit == nil {
			return
		}
		if c.first < 0 || c.first > MaxFirst || c.offset < 0 || c.offset > MaxOffset {
			t.Fatalf("first %d, offset %d out of bounds", c.first, c.offset)
		}
		if s := checkSearch(t, h, c.args, now); s == nil {
			// The error points at the argument, or at auditData.
			_, err := h.newSearch("acme", c.args, now)
			var ae *argError
			if errors.As(err, &ae) && c.position(ae.Arg) == nil {
				t.Fatalf("argument error %v points nowhere", ae)
			}
		}
	})
}
