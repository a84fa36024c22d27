package ui

import (
	"net/url"
	"reflect"
	"testing"
	"time"
)

func TestParseFilters(t *testing.T) {
	for _, tt := range []struct {
		query, canonical string
	}{
		{"", ""},
		{"timeframe=30d", ""},
		{"timeframe=7d", "timeframe=7d"},
		{"timeframe=1y", ""},
		{"timeframe=7d&from=2026-01-01&to=2026-01-31", "timeframe=7d"},
		{"timeframe=custom&from=2026-01-01&to=", "from=2026-01-01"},
		{"timeframe=custom", ""},
		{"from=2026-01-01T00:00:00Z", "from=2026-01-01T00%3A00%3A00Z"},
		{"object_type=skills&object_type=users", "object_type=skills%2Cusers"},
		{"object_type=skills,users,skills,&action_type=edit", "action_type=edit&object_type=skills%2Cusers"},
		{"q=+refund+&originator=&element=Name&utm=x", "element=Name&q=refund"},
		{"cursor=abc&open=rec_1", "cursor=abc&open=rec_1"},
	} {
		q, _ := url.ParseQuery(tt.query)
		if got := parseFilters(q).values().Encode(); got != tt.canonical {
			t.Errorf("parseFilters(%q): got %q, want %q", tt.query, got, tt.canonical)
		}
	}
}

func TestFilters_APIQuery(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		query    string
		from, to string
		err      bool
	}{
		{"", "2026-02-08T12:00:00.000Z", "", false},
		{"timeframe=24h", "2026-03-09T12:00:00.000Z", "", false},
		{"timeframe=13mo", "2025-02-10T12:00:00.000Z", "", false},
		{"from=2026-03-01&to=2026-03-01", "2026-02-28T23:00:00.000Z", "2026-03-01T22:59:59.999Z", false},
		{"to=2026-03-31", "", "2026-03-31T21:59:59.999Z", false},
		{"from=2026-03-02&to=2026-03-01", "", "", true},
		{"from=yesterday", "", "", true},
		{"from=2026-13-01", "", "", true},
	} {
		q, _ := url.ParseQuery(tt.query)
		got, err := parseFilters(q).apiQuery(paris, now)
		if (err != nil) != tt.err {
			t.Errorf("%q: got error %v, want error %v", tt.query, err, tt.err)
			continue
		}
		if err == nil && (got.Get("from") != tt.from || got.Get("to") != tt.to) {
			t.Errorf("%q: got from %q to %q, want %q %q", tt.query, got.Get("from"), got.Get("to"), tt.from, tt.to)
		}
	}
}

func FuzzParseFilters(f *testing.F) {
	f.Add("timeframe=7d&object_type=skills,users&q=x")
	f.Add("from=2026-01-01&to=2026-01-31&cursor=abc")
	f.Add("object_type=%2C%2C&action_type=edit&action_type=add")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		f1 := parseFilters(q)
		// The canonical address reads back as the same filters, so the
		// redirect to it happens at most once.
		f2 := parseFilters(f1.values())
		if !reflect.DeepEqual(f1, f2) {
			t.Fatalf("%q: got %+v, then %+v", raw, f1, f2)
		}
		if f1.values().Encode() != f2.values().Encode() {
			t.Fatalf("%q: canonical query not stable", raw)
		}
		f1.apiQuery(time.UTC, time.Now())
	})
}

func TestSafeNext(t *testing.T) {
	for next, want := range map[string]string{
		"/audit-trail?object_type=skills": "/audit-trail?object_type=skills",
		"/users/usr_1":                    "/users/usr_1",
		"":                                "/",
		"//evil.example/x":                "/",
		"/\\evil.example":                 "/",
		"https://evil.example/":           "/",
		"/api/v1/accounts":                "/",
		"/login":                          "/",
		"/logout":                         "/",
		"javascript:alert(1)":             "/",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q): got %q, want %q", next, got, want)
		}
	}
}

func TestTimezones(t *testing.T) {
	h := &Handler{}
	h.timezones = splitZones()
	if len(h.timezones) < 300 {
		t.Fatalf("got %d time zones, want the IANA list", len(h.timezones))
	}
	for _, tz := range h.timezones {
		if _, err := time.LoadLocation(tz); err != nil {
			t.Errorf("time zone %q: %v", tz, err)
		}
	}
}
