package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// matches reports whether r passes the filters of q, as SPEC §6 defines
// them; it is the reference the server's answers are checked against.
func matches(tb testing.TB, q url.Values, r Record) bool {
	d := r.Time(tb)
	if v := q.Get("from"); v != "" && d.Before(mustTime(tb, v)) {
		return false
	}
	if v := q.Get("to"); v != "" && d.After(mustTime(tb, v)) {
		return false
	}
	if v := q.Get("object_type"); v != "" && !slices.Contains(strings.Split(v, ","), r.ObjectType) {
		return false
	}
	if v := q.Get("action_type"); v != "" && !slices.Contains(strings.Split(v, ","), r.ActionType) {
		return false
	}
	if v := q.Get("element"); v != "" && r.Element != v {
		return false
	}
	if v := q.Get("object_name"); v != "" && r.ObjectName != v {
		return false
	}
	if v := q.Get("object_id"); v != "" && r.ObjectID != v {
		return false
	}
	if v := q.Get("originator"); v != "" && r.Originator.ID != v && r.Originator.Name != v {
		return false
	}
	if v := strings.ToLower(q.Get("q")); v != "" {
		found := false
		for _, s := range []string{r.ObjectName, r.Element, r.OldValue, r.NewValue, r.Originator.Name} {
			found = found || strings.Contains(strings.ToLower(s), v)
		}
		if !found {
			return false
		}
	}
	return true
}

// newestFirst sorts rs by (date, seq), newest first.
func newestFirst(tb testing.TB, rs []Record) []Record {
	out := slices.Clone(rs)
	slices.SortFunc(out, func(a, b Record) int {
		if c := b.Time(tb).Compare(a.Time(tb)); c != 0 {
			return c
		}
		return int(b.Seq - a.Seq)
	})
	return out
}

func filterRecords(tb testing.TB, q url.Values, rs []Record) []Record {
	var out []Record
	for _, r := range newestFirst(tb, rs) {
		if matches(tb, q, r) {
			out = append(out, r)
		}
	}
	return out
}

// TestReadRecords checks every filter of GET .../records and .../count,
// alone and combined, the order, the limits and paging (SPEC §6).
func TestReadRecords(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "read", true)
	// Records already there (the service's own, such as the enabling).
	all := srv.ListAll(t, a, vals("limit", "1000"))

	base := srv.enabledAt(t, a).Truncate(time.Second).Add(time.Second)
	types := []string{"users", "skills", "lobs", "agent_groups"}
	elements := []string{"Name", "Description", "Enabled"}
	originators := []map[string]any{
		{"id": "u-1", "name": "Alice Smith"},
		{"id": "u-2", "name": "Bob Jones", "login_name": "bob"},
		{"id": "u-3", "name": "Carol Zed-Quux"},
	}
	const n = 120
	var items []map[string]any
	date := base
	for i := range n {
		if i%10 != 3 { // every tenth record shares the date of the one before
			date = base.Add(time.Duration(i) * 1500 * time.Millisecond)
		}
		it := rec(
			"object_type", types[i%4],
			"object_id", fmt.Sprintf("id-%d", i%7),
			"object_name", fmt.Sprintf("Object %d", i%5),
			"element", elements[i%3],
			"originator", originators[(i/2)%3],
			"date", ts(date),
			"old_value", fmt.Sprintf("old-%d", i),
			"new_value", fmt.Sprintf("New-Value-%d", i),
		)
		switch i % 3 {
		case 0:
			it["action_type"], it["old_value"] = "add", nil
		case 1:
			it["action_type"] = "edit"
		case 2:
			it["action_type"], it["new_value"] = "delete", nil
		}
		switch i {
		case 11:
			it["old_value"] = "contains the NeedleXYZ word"
		case 13:
			it["old_value"] = "100% done_now"
		}
		items = append(items, it)
	}
	// Post in batches, out of date order, so that seq and date disagree.
	for _, part := range [][]map[string]any{items[60:], items[:30], items[30:60]} {
		all = append(all, srv.MustRecords(t, a, part...)...)
	}
	at := func(i int, off time.Duration) string {
		return ts(base.Add(time.Duration(i)*1500*time.Millisecond + off))
	}

	t.Run("OKFilters", func(t *testing.T) {
		for _, q := range []url.Values{
			vals(),
			vals("from", at(40, 500*time.Millisecond)),
			vals("to", at(40, 500*time.Millisecond)),
			vals("from", at(20, -500*time.Millisecond), "to", at(70, 500*time.Millisecond)),
			vals("object_type", "users"),
			vals("object_type", "users,lobs"),
			vals("object_type", "widgets"),
			vals("action_type", "add"),
			vals("action_type", "edit,delete"),
			vals("element", "Description"),
			vals("object_name", "Object 3"),
			vals("object_id", "id-4"),
			vals("originator", "u-2"),
			vals("originator", "Bob Jones"),
			vals("originator", "bob"),
			vals("q", "needlexyz"),
			vals("q", "CAROL ZED"),
			vals("q", "object 3"),
			vals("q", "descr"),
			vals("q", "new-value-2"),
			vals("q", "OLD-1"),
			vals("q", "nothing like this"),
			vals("q", "%"),
			vals("q", "0% d"),
			vals("q", "_"),
			vals("q", "e_n"),
			vals("object_type", "users,skills", "action_type", "edit", "originator", "Alice Smith", "from", at(10, 0)),
			vals("q", "value-1", "object_type", "lobs,agent_groups", "to", at(90, 0)),
			vals("element", "Name", "object_name", "Object 2", "object_id", "id-3"),
			vals("originator", "u-3", "action_type", "add,delete", "q", "object", "from", at(5, 0), "to", at(100, 0)),
		} {
			want := ids(filterRecords(t, q, all))
			lq := clone(q)
			lq.Set("limit", "1000")
			p := srv.List(t, a, lq)
			if got := ids(p.Records); !slices.Equal(got, want) {
				t.Errorf("%s: got %d records %v, want %d %v", q.Encode(), len(got), got, len(want), want)
			}
			if p.NextCursor != nil {
				t.Errorf("%s: next_cursor: got %v, want null", q.Encode(), *p.NextCursor)
			}
			if got := srv.Count(t, a, q); got != len(want) {
				t.Errorf("%s: count: got %v, want %v", q.Encode(), got, len(want))
			}
			pq := clone(q)
			pq.Set("limit", "7")
			if got := ids(srv.ListAll(t, a, pq)); !slices.Equal(got, want) {
				t.Errorf("%s, pages of 7: got %v, want %v", q.Encode(), got, want)
			}
		}
	})

	t.Run("OKOrder", func(t *testing.T) {
		p := srv.List(t, a, vals("limit", "1000"))
		for i := 1; i < len(p.Records); i++ {
			x, y := p.Records[i-1], p.Records[i]
			if c := x.Time(t).Compare(y.Time(t)); c < 0 || c == 0 && x.Seq < y.Seq {
				t.Errorf("records %d and %d: got (%s, %d) before (%s, %d), want newest first", i-1, i, x.Date, x.Seq, y.Date, y.Seq)
			}
		}
		if !reflect.DeepEqual(p.Records, newestFirst(t, all)) {
			t.Errorf("records: got %v, want %v", ids(p.Records), ids(newestFirst(t, all)))
		}
	})

	t.Run("OKLimit", func(t *testing.T) {
		total := len(all)
		if p := srv.List(t, a, nil); len(p.Records) != 100 || p.NextCursor == nil {
			t.Errorf("default page: got %d records, next_cursor %v; want 100 and a cursor", len(p.Records), p.NextCursor)
		}
		if p := srv.List(t, a, vals("limit", "1")); len(p.Records) != 1 || p.NextCursor == nil {
			t.Errorf("limit 1: got %d records, next_cursor %v; want 1 and a cursor", len(p.Records), p.NextCursor)
		}
		if p := srv.List(t, a, vals("limit", "1000")); len(p.Records) != total || p.NextCursor != nil {
			t.Errorf("limit 1000: got %d records, next_cursor %v; want %d and null", len(p.Records), p.NextCursor, total)
		}
		if p := srv.List(t, a, vals("limit", fmt.Sprint(total))); len(p.Records) != total || p.NextCursor != nil {
			t.Errorf("limit %d: got %d records, next_cursor %v; want all and null", total, len(p.Records), p.NextCursor)
		}
		p := srv.List(t, a, vals("limit", fmt.Sprint(total-1)))
		if len(p.Records) != total-1 || p.NextCursor == nil {
			t.Fatalf("limit %d: got %d records, next_cursor %v; want %d and a cursor", total-1, len(p.Records), p.NextCursor, total-1)
		}
		last := srv.List(t, a, vals("limit", fmt.Sprint(total-1), "cursor", *p.NextCursor))
		if len(last.Records) != 1 || last.NextCursor != nil {
			t.Errorf("last page: got %d records, next_cursor %v; want 1 and null", len(last.Records), last.NextCursor)
		}
		// A cursor keeps the filters' meaning: the next page of users is users.
		p = srv.List(t, a, vals("limit", "5", "object_type", "users"))
		p = srv.List(t, a, vals("limit", "5", "object_type", "users", "cursor", *p.NextCursor))
		for _, r := range p.Records {
			if r.ObjectType != "users" {
				t.Errorf("second page of users: got a record of %s", r.ObjectType)
			}
		}
	})

	t.Run("ErrLimit", func(t *testing.T) {
		for _, l := range []string{"0", "1001", "-5", "x", "1e3"} {
			MustError(t, srv.Do(t, "GET", a.path("/records?limit="+l), a.AdminToken, nil), 400, "invalid_parameter")
		}
	})

	t.Run("ErrCursor", func(t *testing.T) {
		for _, c := range []string{"nonsense", "!!!", strings.Repeat("A", 200), "djEueC55"} {
			MustError(t, srv.Do(t, "GET", a.path("/records?cursor="+url.QueryEscape(c)), a.AdminToken, nil), 400, "invalid_parameter")
		}
	})

	t.Run("OKGetOne", func(t *testing.T) {
		for _, r := range all[len(all)-5:] {
			got := decodeRecord(t, srv.Must(t, 200, "GET", a.path("/records/"+r.ID), a.AdminToken, nil))
			if !reflect.DeepEqual(got, r) {
				t.Errorf("GET %s: got %+v, want %+v", r.ID, got, r)
			}
		}
		MustError(t, srv.Do(t, "GET", a.path("/records/rec_nope"), a.AdminToken, nil), 404, "not_found")
	})
}

// TestRetention checks that reads never return anything older than the
// retention window and that a from before it is clamped (SPEC §7).
func TestRetention(t *testing.T) {
	t.Parallel()
	srv := MustStart(t, "--retention", "36h")
	a := srv.MustAccount(t, "retention", true)
	rs := srv.MustRecords(t, a, rec(), rec("object_id", "u-2"), rec("object_id", "u-3"))
	n := srv.Count(t, a, nil)

	t.Run("OK", func(t *testing.T) {
		for _, from := range []string{"2000-01-01T00:00:00Z", ts(time.Now().Add(-72 * time.Hour)), ts(time.Now().Add(-35 * time.Hour))} {
			if got := srv.Count(t, a, vals("from", from)); got != n {
				t.Errorf("count from %s: got %v, want %v", from, got, n)
			}
			p := srv.List(t, a, vals("from", from, "object_type", "users"))
			if got, want := ids(p.Records), ids(newestFirst(t, rs)); !slices.Equal(got, want) {
				t.Errorf("records from %s: got %v, want %v", from, got, want)
			}
		}
		if got := srv.Count(t, a, vals("to", ts(time.Now().Add(-37*time.Hour)))); got != 0 {
			t.Errorf("count to 37 hours ago: got %v, want %v", got, 0)
		}
	})
}

func decodeRecord(tb testing.TB, r *Response) Record {
	tb.Helper()
	var rec Record
	if err := json.Unmarshal(r.Body, &rec); err != nil {
		tb.Fatalf("record: %v: %s", err, r.Body)
	}
	return rec
}
