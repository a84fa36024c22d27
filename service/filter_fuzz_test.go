package service

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/audittrail/audittrail"
)

// FuzzParseFilter reads the query of the list and count routes: it refuses
// with invalid_parameter, or gives a filter of the route's account within
// the bounds of SPEC §6: a limit of 1 to
// 1,000, known action types, short texts, and the cursor that was sent.
func FuzzParseFilter(f *testing.F) {
	cursor := (&audittrail.Cursor{Date: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Seq: 9}).String()
	for _, q := range []string{
		"", "from=2026-01-01T00:00:00Z&to=2026-11-25T00:00:00.5%2B01:00&limit=1000&cursor=" + cursor,
		"object_type=users,skills,&action_type=add,%20edit&element=Name&object_name=x&object_id=1&originator=o&q=%0D%0A",
		"action_type=rename", "limit=0", "limit=1001", "limit=+5", "limit=05", "limit=1e3", "cursor=djEuKzEuMg", "cursor=%00",
		"from=yesterday", "from=0000-01-01T00:00:00%2B23:59", "to=9999-12-31T23:59:59-23:59", "from=2026-13-01T00:00:00Z",
		"q=" + strings.Repeat("%C3%A9", 512), "q=" + strings.Repeat("x", 513), "object_type=" + strings.Repeat("a,", 101),
		"fields=all", "%zz=1", "q=%FF%FE", "q=%1B%5B31m&q=second", "action_type=add,edit,delete,add",
	} {
		f.Add(q, true)
	}
	f.Add("limit=5", false)
	f.Add("cursor="+cursor, false)
	f.Fuzz(func(t *testing.T, rawQuery string, paged bool) {
		q, _ := url.ParseQuery(rawQuery) // as net/http's URL.Query: what does not parse is dropped
		flt, err := ParseFilter(q, "acme", paged)
		if err != nil {
			if code := audittrail.ErrorCode(err); code != audittrail.EINVALIDPARAMETER {
				t.Fatalf("%q: got %v, want %s", rawQuery, err, audittrail.EINVALIDPARAMETER)
			}
			return
		}
		if !paged && (q.Has("limit") || q.Has("cursor")) {
			t.Fatalf("%q: the count route accepted limit or cursor", rawQuery)
		}
		if flt.AccountID != "acme" {
			t.Fatalf("account: got %q, want acme", flt.AccountID)
		}
		if flt.Limit < 1 || flt.Limit > audittrail.MaxLimit {
			t.Fatalf("%q: limit %d", rawQuery, flt.Limit)
		}
		if v := q.Get("limit"); v != "" {
			if n, err := strconv.Atoi(v); err != nil || n != flt.Limit {
				t.Fatalf("%q: limit %d, want %q", rawQuery, flt.Limit, v)
			}
		}
		for _, a := range flt.ActionTypes {
			if a != audittrail.ActionAdd && a != audittrail.ActionEdit && a != audittrail.ActionDelete {
				t.Fatalf("%q: action type %q", rawQuery, a)
			}
		}
		for _, typ := range flt.ObjectTypes {
			if typ == "" || typ != strings.TrimSpace(typ) || strings.Contains(typ, ",") {
				t.Fatalf("%q: object type %q", rawQuery, typ)
			}
		}
		for _, v := range []string{flt.Element, flt.ObjectName, flt.ObjectID, flt.Originator, flt.Query} {
			if utf8.RuneCountInString(v) > 512 {
				t.Fatalf("%q: a text filter of %d characters", rawQuery, utf8.RuneCountInString(v))
			}
		}
		if c := q.Get("cursor"); c != "" {
			if flt.After == nil || flt.After.String() != c {
				t.Fatalf("%q: cursor %v, want the one sent", rawQuery, flt.After)
			}
		} else if flt.After != nil {
			t.Fatalf("%q: a cursor that was not sent", rawQuery)
		}
		if v := q.Get("to"); v != "" {
			want, err := time.Parse(time.RFC3339Nano, v)
			if err != nil || flt.To == nil || !flt.To.Equal(want) {
				t.Fatalf("%q: to %v, want %v (%v)", rawQuery, flt.To, want, err)
			}
		}
	})
}
