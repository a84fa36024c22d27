package audittrail_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
)

// FuzzCursorCanonical: a cursor is opaque, so the only token that parses
// is the one the service made. Whatever parses re-encodes to the same
// string (no second spelling of a position, such as "+5" or "05" inside),
// and every refusal is invalid_parameter.
func FuzzCursorCanonical(f *testing.F) {
	for _, c := range []audittrail.Cursor{
		{Date: time.UnixMilli(1767322800123).UTC(), Seq: 0},
		{Date: time.UnixMilli(-62135596800000).UTC(), Seq: 1<<63 - 1},
		{Date: time.UnixMilli(253402300799999).UTC(), Seq: 42},
	} {
		f.Add(c.String())
	}
	f.Add("djEuKzEuMg")  // v1.+1.2
	f.Add("djEuMDEuMg")  // v1.01.2
	f.Add("djEuMS4y")    // v1.1.2
	f.Add("djEuMS4yAA")  // v1.1.2\x00
	f.Add("djEuMS4z")    // v1.1.3
	f.Add("djEuMS4y=")   // padded
	f.Add("djEuMS4-MQ")  // not base64url of digits
	f.Add("djEuMS4yCg")  // v1.1.2\n
	f.Add("djEu4pmlLjI") // v1.♥.2
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := audittrail.ParseCursor(s)
		if err != nil {
			if code := audittrail.ErrorCode(err); code != audittrail.EINVALIDPARAMETER {
				t.Fatalf("ParseCursor(%q): got code %s, want %s", s, code, audittrail.EINVALIDPARAMETER)
			}
			return
		}
		if got := c.String(); got != s {
			t.Fatalf("ParseCursor(%q) = %#v, which encodes as %q: want the same token", s, c, got)
		}
		if c.Seq < 0 || c.Date.Location() != time.UTC || c.Date.Year() < 1 || c.Date.Year() > 9999 {
			t.Fatalf("ParseCursor(%q) = %#v: out of range", s, c)
		}
	})
}

// FuzzParseRetention reads --retention values: what parses is a positive
// window that prints back as a value that parses to the same window, and
// whose start is before now.
func FuzzParseRetention(f *testing.F) {
	for _, s := range []string{"13mo", "1mo", "1200mo", "1201mo", "0mo", "-1mo", "+3mo", "013mo", "36h", "1ns",
		"2562047h47m16.854775807s", "2562048h", "1h30m", "-1h", "0", "mo", "13 mo", "13MO", "1e3h", "1.5h", ".5h", "\x00"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		r, err := audittrail.ParseRetention(s)
		if err != nil {
			if r != (audittrail.Retention{}) {
				t.Fatalf("ParseRetention(%q): got %+v with error %v, want the zero value", s, r, err)
			}
			return
		}
		if (r.Months > 0) == (r.Duration > 0) || r.Months < 0 || r.Duration < 0 {
			t.Fatalf("ParseRetention(%q) = %+v: want months or a duration, positive", s, r)
		}
		again, err := audittrail.ParseRetention(r.String())
		if err != nil || again != r {
			t.Fatalf("ParseRetention(%q) = %+v prints as %q, which reads back as %+v (%v)", s, r, r.String(), again, err)
		}
		if start := r.Start(now); !start.Before(now) {
			t.Fatalf("ParseRetention(%q): window starts at %v, not before now %v", s, start, now)
		}
	})
}

// FuzzReadCatalog reads --catalog files: never a panic; a catalog that
// reads holds every built-in type, gives every type and element a key,
// a label and a component type, refuses what it must refuse (login types,
// keys of the wrong shape), and reads back unchanged from the JSON that
// GET /api/v1/object-types answers.
func FuzzReadCatalog(f *testing.F) {
	for _, s := range []string{
		`{"object_types": []}`,
		`{"object_types": [{"key": "chat_widgets", "elements": [{"key": "color"}, {"key": "api_key", "label": "API key"}]}]}`,
		`{"object_types": [{"key": "users", "label": "People", "elements": [{"key": "pin_code", "label": "PIN", "sensitive": true}, {"key": "password", "sensitive": false}]}]}`,
		`{"object_types": [{"key": "x", "component_type": "ACXObject", "elements": [{"key": "a"}, {"key": "a", "label": "Again"}]}]}`,
		`{"object_types": [{"key": "a_", "elements": [{"key": "_"}, {"key": "..."}, {"key": "é_ß"}]}]}`,
		`{"object_types": [{"key": "sessions"}]}`,
		`{"object_types": [{"key": "Users"}]}`,
		`{"object_types": [{"key": ""}]}`,
		`{"object_types": [{"key": "w", "elements": [{"key": ""}]}]}`,
		`{"object_types": [{"key": "w", "elements": [{"key": "a\u0000\u001b[31m\u202e"}]}]}`,
		`{"object_types": [{"key": "w", "colour": "red"}]}`,
		`{"object_types": null}`, `{}`, `[]`, `null`, ``, `{"object_types": [{"key": "w"}]} trailing`,
	} {
		f.Add([]byte(s))
	}
	builtin, err := audittrail.NewCatalog(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, file []byte) {
		c, err := audittrail.ReadCatalog(bytes.NewReader(file))
		if err != nil {
			if c != nil {
				t.Fatalf("got a catalog and an error %v", err)
			}
			return
		}
		for _, b := range builtin.Types() {
			if _, ok := c.Type(b.Key); !ok {
				t.Fatalf("built-in type %s is missing", b.Key)
			}
		}
		seen := map[string]bool{}
		for _, typ := range c.Types() {
			if seen[typ.Key] {
				t.Fatalf("type %q listed twice", typ.Key)
			}
			seen[typ.Key] = true
			if typ.Label == "" || typ.ComponentType == "" || typ.Elements == nil {
				t.Fatalf("type %+v: want a label, a component type and a list of elements", typ)
			}
			if audittrail.IsLoginType(typ.Key) || c.CheckType(typ.Key) != nil {
				t.Fatalf("type %q is listed but refused (%v)", typ.Key, c.CheckType(typ.Key))
			}
			if got, ok := c.Type(typ.Key); !ok || got != typ {
				t.Fatalf("Type(%q) does not find the listed type", typ.Key)
			}
			for _, e := range typ.Elements {
				if e.Key == "" || e.Label == "" {
					t.Fatalf("type %s: element %+v has no key or no label", typ.Key, e)
				}
				if l, sensitive := typ.Describe(e.Key); l == "" || (e.Sensitive && !sensitive) {
					t.Fatalf("type %s: Describe(%q) = %q, %v; the catalog says %+v", typ.Key, e.Key, l, sensitive, e)
				}
			}
		}
		// The answer of GET /api/v1/object-types is itself a catalog file.
		served, err := json.Marshal(map[string]any{"object_types": c.Types()})
		if err != nil {
			t.Fatal(err)
		}
		again, err := audittrail.ReadCatalog(bytes.NewReader(served))
		if err != nil {
			t.Fatalf("the served catalog does not read back: %v\n%s", err, served)
		}
		if !reflect.DeepEqual(again.Types(), c.Types()) {
			t.Fatalf("the served catalog reads back as another:\n got %s\nwant %s", mustJSON(t, again.Types()), mustJSON(t, c.Types()))
		}
	})
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
