package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPostRecords checks that POST .../records stores each record with the
// fields of SPEC §2.
func TestPostRecords(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "post-records", true)

	t.Run("OK", func(t *testing.T) {
		base := int64(srv.Count(t, a, nil))
		date := srv.enabledAt(t, a).Truncate(time.Second).Add(2 * time.Second)
		full := Originator{ID: "u-7", Name: "Olivia Admin", LoginName: "olivia", EmployeeID: "E-7",
			Profiles: []string{"Administrator", "Agent Manager"}, UserAgent: "Mozilla/5.0", AuthType: "SSO", IsLPA: true}
		before := time.Now()
		rs := srv.MustRecords(t, a,
			rec("object_id", 42, "element", "member_of", "old_value", []any{"b", "a"}, "new_value", []any{"c", "a", "c"},
				"date", date.Format(time.RFC3339), "originator", full, "automatic", true),
			rec("object_type", "skills", "object_id", "s-1", "object_name", "Billing", "element", "max_wait_time", "old_value", 30, "new_value", 45.5),
			rec("element", "enabled", "old_value", true, "new_value", false),
			rec("object_type", "skills", "action_type", "delete", "element", "skill_routing", "old_value", map[string]any{"b": 1, "a": []any{2, 1}}, "new_value", nil),
			rec("action_type", "add", "element", "Login name", "old_value", nil, "new_value", "jdoe"),
			rec("date", date.Add(123456789*time.Nanosecond).Format(time.RFC3339Nano)),
		)
		after := time.Now()
		if len(rs) != 6 {
			t.Fatalf("records: got %v, want %v", len(rs), 6)
		}
		want := []struct {
			typ, id, name, action, element, old, new string
		}{
			{"users", "42", "Jane Doe", "edit", "Member of", "a, b", "a, c"},
			{"skills", "s-1", "Billing", "edit", "Max wait time", "30", "45.5"},
			{"users", "u-1", "Jane Doe", "edit", "Enabled", "true", "false"},
			{"skills", "u-1", "Jane Doe", "delete", "Skill routing configuration", `{"a":[2,1],"b":1}`, ""},
			{"users", "u-1", "Jane Doe", "add", "Login name", "", "jdoe"},
			{"users", "u-1", "Jane Doe", "edit", "Name", "Jane", "Jane Doe"},
		}
		seen := map[string]bool{}
		changeIDs := map[string]bool{}
		for i, r := range rs {
			w := want[i]
			got := []string{r.ObjectType, r.ObjectID, r.ObjectName, r.ActionType, r.Element, r.OldValue, r.NewValue}
			exp := []string{w.typ, w.id, w.name, w.action, w.element, w.old, w.new}
			if !slices.Equal(got, exp) {
				t.Errorf("record %d: got %q, want %q", i, got, exp)
			}
			if r.ID == "" || seen[r.ID] {
				t.Errorf("record %d: id: got %q, want a new unique id", i, r.ID)
			}
			seen[r.ID] = true
			if want := base + int64(i); r.Seq != want {
				t.Errorf("record %d: seq: got %v, want %v", i, r.Seq, want)
			}
			if r.ChangeID == "" || changeIDs[r.ChangeID] {
				t.Errorf("record %d: change_id: got %q, want one of its own", i, r.ChangeID)
			}
			changeIDs[r.ChangeID] = true
			if r.Source != "platform" {
				t.Errorf("record %d: source: got %v, want %v", i, r.Source, "platform")
			}
			rt := mustTime(t, r.ReceivedAt)
			if rt.Before(before.Add(-time.Second)) || rt.After(after.Add(time.Second)) {
				t.Errorf("record %d: received_at: got %v, want between %v and %v", i, r.ReceivedAt, ts(before), ts(after))
			}
			for name, v := range map[string]string{"date": r.Date, "received_at": r.ReceivedAt} {
				if len(v) != len("2006-01-02T15:04:05.000Z") || !strings.HasSuffix(v, "Z") || v[19] != '.' {
					t.Errorf("record %d: %s: got %q, want RFC 3339 UTC with milliseconds", i, name, v)
				}
			}
		}
		if got := rs[0].Date; got != date.UTC().Format("2006-01-02T15:04:05")+".000Z" {
			t.Errorf("date: got %v, want %v", got, ts(date))
		}
		if got, want := rs[5].Date, date.UTC().Format("2006-01-02T15:04:05")+".123Z"; got != want {
			t.Errorf("date: got %v, want %v", got, want)
		}
		if d := rs[1].Time(t); d.Before(before.Add(-time.Second)) || d.After(after.Add(time.Second)) {
			t.Errorf("default date: got %v, want the time of the request (%v)", rs[1].Date, ts(before))
		}
		if !reflect.DeepEqual(rs[0].Originator, full) {
			t.Errorf("originator: got %+v, want %+v", rs[0].Originator, full)
		}
		if !rs[0].Automatic || rs[1].Automatic {
			t.Errorf("automatic: got %v and %v, want true and false", rs[0].Automatic, rs[1].Automatic)
		}

		// The stored record, read back, is the record that was answered.
		for _, r := range rs {
			got := decodeRecord(t, srv.Must(t, 200, "GET", a.path("/records/"+r.ID), a.AdminToken, nil))
			if !reflect.DeepEqual(got, r) {
				t.Errorf("GET %s: got %+v, want %+v", r.ID, got, r)
			}
		}

		// The JSON holds exactly the fields of SPEC §2.
		body := srv.Must(t, 200, "GET", a.path("/records/"+rs[0].ID), a.AdminToken, nil).Body
		var one map[string]json.RawMessage
		json.Unmarshal(body, &one)
		var keys []string
		for k := range one {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		wantKeys := []string{"action_type", "automatic", "change_id", "date", "element", "id", "new_value", "object_id", "object_name", "object_type", "old_value", "originator", "received_at", "seq", "source"}
		if !slices.Equal(keys, wantKeys) {
			t.Errorf("fields: got %v, want %v", keys, wantKeys)
		}
	})

	t.Run("OKDateWithOffset", func(t *testing.T) {
		d := time.Now().Add(time.Minute).Truncate(time.Millisecond)
		rs := srv.MustRecords(t, a, rec("date", d.In(time.FixedZone("", 2*3600)).Format("2006-01-02T15:04:05.000-07:00")))
		if got, want := rs[0].Date, ts(d); got != want {
			t.Errorf("date: got %v, want %v", got, want)
		}
	})

	t.Run("OKUnknownElementLabel", func(t *testing.T) {
		// SPEC §3: an element key that the catalog does not list gets a
		// label made from its key.
		rs := srv.MustRecords(t, a, rec("element", "auto_accept_chats"), rec("element", "Routing rule"))
		if got, want := rs[0].Element, "Auto accept chats"; got != want {
			t.Errorf("element: got %v, want %v", got, want)
		}
		if got, want := rs[1].Element, "Routing rule"; got != want {
			t.Errorf("element: got %v, want %v", got, want)
		}
	})
}

// TestPostChanges checks that POST .../changes works out the records of
// each change (SPEC §6).
func TestPostChanges(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "post-changes", true)

	byElement := func(t *testing.T, rs []Record) map[string]Record {
		t.Helper()
		m := map[string]Record{}
		for _, r := range rs {
			if _, dup := m[r.Element]; dup {
				t.Errorf("element %q: got two records, want one", r.Element)
			}
			m[r.Element] = r
		}
		return m
	}
	check := func(t *testing.T, rs []Record, action string, want map[string][2]string) {
		t.Helper()
		got := byElement(t, rs)
		if len(got) != len(want) {
			t.Errorf("records: got %d (%v), want %d (%v)", len(got), got, len(want), want)
		}
		for el, v := range want {
			r, ok := got[el]
			if !ok {
				t.Errorf("element %q: got no record, want one", el)
				continue
			}
			if r.OldValue != v[0] || r.NewValue != v[1] {
				t.Errorf("element %q: got %q → %q, want %q → %q", el, r.OldValue, r.NewValue, v[0], v[1])
			}
			if r.ActionType != action {
				t.Errorf("element %q: action_type: got %v, want %v", el, r.ActionType, action)
			}
		}
		for i, r := range rs {
			if r.ChangeID == "" || r.ChangeID != rs[0].ChangeID {
				t.Errorf("record %d: change_id: got %q, want %q shared by the change's records", i, r.ChangeID, rs[0].ChangeID)
			}
			if r.Source != "platform" || r.ObjectType != "users" || r.ObjectID != "u-1" || r.ObjectName != "Jane Doe" {
				t.Errorf("record %d: got %+v, want source platform, users u-1 Jane Doe", i, r)
			}
		}
	}

	t.Run("OKAdd", func(t *testing.T) {
		rs := srv.MustChanges(t, a, chg("before", nil, "after", map[string]any{
			"login_name": "jdoe", "name": "Jane", "email": "j@example.com", "member_of": []any{"b", "a"},
			"max_chats": 3, "enabled": true, "auto_accept_chats": false, "nickname": "", "manager_of": nil,
		}))
		check(t, rs, "add", map[string][2]string{
			"Login name": {"", "jdoe"}, "Name": {"", "Jane"}, "Email": {"", "j@example.com"}, "Member of": {"", "a, b"},
			"Max no. of live chats": {"", "3"}, "Enabled": {"", "true"}, "Auto accept chats": {"", "false"},
		})
	})

	t.Run("OKEdit", func(t *testing.T) {
		rs := srv.MustChanges(t, a, chg(
			"before", map[string]any{"name": "Jane", "member_of": []any{"a", "b"}, "skills": []any{"x", "y"}, "routing": map[string]any{"max_wait": 30, "mode": "fifo"}, "max_chats": 3, "nickname": "JJ"},
			"after", map[string]any{"name": "Janet", "member_of": []any{"b", "a", "a"}, "skills": []any{"y", "z"}, "routing": map[string]any{"max_wait": 45, "mode": "fifo"}, "max_chats": 3, "email": "j@example.com"},
		))
		check(t, rs, "edit", map[string][2]string{
			"Name": {"Jane", "Janet"}, "Skills": {"x, y", "y, z"}, "Routing max wait": {"30", "45"},
			"Email": {"", "j@example.com"}, "Nickname": {"JJ", ""},
		})
	})

	t.Run("OKDelete", func(t *testing.T) {
		rs := srv.MustChanges(t, a, chg("before", map[string]any{"name": "Jane", "email": "j@example.com", "profile": map[string]any{"id": 3, "name": "Agent"}}, "after", nil))
		check(t, rs, "delete", map[string][2]string{
			"Name": {"Jane", ""}, "Email": {"j@example.com", ""}, "Profile id": {"3", ""}, "Profile name": {"Agent", ""},
		})
	})

	t.Run("OKNoDifference", func(t *testing.T) {
		n := srv.Count(t, a, nil)
		r := srv.Must(t, 201, "POST", a.path("/changes"), a.Key, changes(chg(
			"before", map[string]any{"name": "Jane", "member_of": []any{"a", "b"}, "routing": map[string]any{"max_wait": 30}},
			"after", map[string]any{"name": "Jane", "member_of": []any{"b", "a", "b"}, "routing": map[string]any{"max_wait": 30}},
		)))
		if rs := decodeRecords(t, r); len(rs) != 0 {
			t.Errorf("records: got %v, want none", rs)
		}
		if !bytes.Contains(r.Body, []byte(`"records":[]`)) {
			t.Errorf("body: got %s, want an empty list of records", r.Body)
		}
		if got := srv.Count(t, a, nil); got != n {
			t.Errorf("count: got %v, want %v", got, n)
		}
	})

	t.Run("OKBatch", func(t *testing.T) {
		rs := srv.MustChanges(t, a,
			chg("after", map[string]any{"name": "A", "email": "a@x"}, "before", map[string]any{"name": "B", "email": "b@x"}),
			chg("after", map[string]any{"name": "same"}, "before", map[string]any{"name": "same"}),
			chg("object_type", "skills", "object_id", 7, "object_name", "Billing", "before", nil, "after", map[string]any{"name": "Billing"}),
		)
		if len(rs) != 3 {
			t.Fatalf("records: got %v, want %v", len(rs), 3)
		}
		for i := 1; i < len(rs); i++ {
			if rs[i].Seq != rs[i-1].Seq+1 {
				t.Errorf("seqs: got %v, want consecutive", seqs(rs))
			}
		}
		if rs[0].ChangeID != rs[1].ChangeID || rs[1].ChangeID == rs[2].ChangeID {
			t.Errorf("change_id: got %v %v %v, want the first two shared and the third its own", rs[0].ChangeID, rs[1].ChangeID, rs[2].ChangeID)
		}
		if rs[2].ObjectType != "skills" || rs[2].ObjectID != "7" || rs[2].Element != "Name" || rs[2].ActionType != "add" {
			t.Errorf("record 2: got %+v, want an add of skill 7's Name", rs[2])
		}
	})
}

// TestSensitive checks that a password never reaches storage, logs or
// answers (SPEC §2): its values become ******** before anything is written.
func TestSensitive(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "sensitive", true)
	secrets := []string{"Plaintext-Hunter2-Xyzzy", "Sup3r-Old-Passw0rd-Qwerty", "sk-live-ApiKey-Zebra-99", "client-Secret-Walrus-42", "tok-Bearer-Narwhal-17"}
	var answers [][]byte
	keep := func(r *Response) *Response { answers = append(answers, r.Body); return r }

	rs := decodeRecords(t, keep(srv.Must(t, 201, "POST", a.path("/records"), a.Key, records(
		rec("element", "password", "old_value", secrets[1], "new_value", secrets[0]),
		rec("element", "Password", "action_type", "add", "old_value", nil, "new_value", secrets[0]),
		rec("object_type", "skills", "element", "api_key", "old_value", nil, "new_value", secrets[2]),
		rec("object_type", "lobs", "element", "Client secret", "action_type", "delete", "old_value", secrets[3], "new_value", nil),
	))))
	rs = append(rs, decodeRecords(t, keep(srv.Must(t, 201, "POST", a.path("/changes"), a.Key, changes(
		chg("before", map[string]any{"name": "Jane", "password": secrets[1]}, "after", map[string]any{"name": "Jane", "password": secrets[0]}),
		chg("before", nil, "after", map[string]any{"name": "Jane", "password": secrets[0], "auth": map[string]any{"token": secrets[4]}}),
		chg("object_type", "skills", "before", map[string]any{"webhook": map[string]any{"secret": secrets[3]}}, "after", nil),
		chg("id", "pw-1", "before", map[string]any{"password": []any{secrets[1]}}, "after", map[string]any{"password": []any{secrets[0], "x"}}),
	))))...)
	// Refused batches holding secrets answer without them.
	keep(srv.Do(t, "POST", a.path("/records"), a.Key, records(rec("element", "password", "new_value", secrets[0], "date", ts(time.Now().Add(time.Hour))))))
	keep(srv.Do(t, "POST", a.path("/changes"), a.Key, changes(chg("id", "pw-1", "after", map[string]any{"password": secrets[2]}))))

	// Labels of the records of the changes (those of the records route are
	// checked in TestPostRecords).
	wantElements := []string{"Password", "Name", "Password", "Auth token", "Webhook secret", "Password"}
	var gotElements []string
	for i, r := range rs {
		if i >= 4 {
			gotElements = append(gotElements, r.Element)
		}
		if r.OldValue != "" && r.OldValue != "********" || r.NewValue != "" && r.NewValue != "********" {
			if r.Element != "Name" {
				t.Errorf("record %d (%s): got %q → %q, want ********", i, r.Element, r.OldValue, r.NewValue)
			}
		}
	}
	if !slices.Equal(gotElements, wantElements) {
		t.Errorf("elements: got %q, want %q", gotElements, wantElements)
	}
	if rs[0].OldValue != "********" || rs[0].NewValue != "********" || rs[1].OldValue != "" || rs[3].NewValue != "" {
		t.Errorf("redaction: got %+v, want ******** for values, empty kept empty", rs[:4])
	}

	keep(srv.Must(t, 200, "GET", a.path("/records?limit=1000"), a.AdminToken, nil))
	keep(srv.Must(t, 200, "GET", a.path("/records?q=hunter2"), a.AdminToken, nil))
	if n := srv.Count(t, a, vals("q", "hunter2")); n != 0 {
		t.Errorf("count of q=hunter2: got %v, want %v", n, 0)
	}
	for _, r := range rs {
		keep(srv.Must(t, 200, "GET", a.path("/records/"+r.ID), a.AdminToken, nil))
	}

	// The administrator's password, given when the account was created.
	secrets = append(secrets, "correct horse battery")
	look := func(where string, b []byte) {
		t.Helper()
		for _, s := range secrets {
			for _, v := range []string{s, strings.ToLower(s)} {
				if bytes.Contains(b, []byte(v)) {
					t.Errorf("%s holds the secret %q", where, v)
				}
			}
		}
	}
	for i, b := range answers {
		look(fmt.Sprint("answer ", i), b)
	}
	for p, b := range srv.StoredBytes(t) {
		look(p, b)
	}
	look("the logs", []byte(srv.Logs()))

	srv.Stop(t)
	for p, b := range srv.StoredBytes(t) {
		look(p+" (after stop)", b)
	}
	look("the logs", []byte(srv.Logs()))
}

// TestIdempotency checks that an item sent again with the same id is
// stored once and answers the records first stored, and that the same id
// with other content is refused (SPEC §6).
func TestIdempotency(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "idempotency", true)

	t.Run("OKRecords", func(t *testing.T) {
		items := []map[string]any{rec("id", "r-1"), rec("id", "r-2", "element", "email", "new_value", "j@x"), rec("id", "r-3", "date", nil)}
		first := srv.MustRecords(t, a, items...)
		n := srv.Count(t, a, nil)
		time.Sleep(5 * time.Millisecond)
		again := srv.MustRecords(t, a, items...)
		if !reflect.DeepEqual(again, first) {
			t.Errorf("retry: got %+v, want %+v", again, first)
		}
		if got := srv.Count(t, a, nil); got != n {
			t.Errorf("count: got %v, want %v", got, n)
		}
		// A batch mixing a retry and a new item stores only the new one.
		mixed := srv.MustRecords(t, a, items[1], rec("id", "r-4"))
		if mixed[0].ID != first[1].ID || mixed[0].Seq != first[1].Seq {
			t.Errorf("retried item: got %v/%v, want %v/%v", mixed[0].ID, mixed[0].Seq, first[1].ID, first[1].Seq)
		}
		if got := srv.Count(t, a, nil); got != n+1 {
			t.Errorf("count: got %v, want %v", got, n+1)
		}
	})

	t.Run("ErrIdempotencyConflictRecords", func(t *testing.T) {
		srv.MustRecords(t, a, rec("id", "c-1"))
		n := srv.Count(t, a, nil)
		e := MustError(t, srv.PostRecords(t, a, rec("id", "c-new"), rec("id", "c-1", "new_value", "something else")), 409, "idempotency_conflict")
		MustDetails(t, e, Detail{1, "id"})
		if got := srv.Count(t, a, nil); got != n {
			t.Errorf("count: got %v, want %v", got, n)
		}
		// c-new was not stored: sending it now stores it.
		rs := srv.MustRecords(t, a, rec("id", "c-new"))
		if got := srv.Count(t, a, nil); got != n+1 {
			t.Errorf("count: got %v, want %v (record %+v)", got, n+1, rs)
		}
	})

	t.Run("OKChanges", func(t *testing.T) {
		items := []map[string]any{
			chg("id", "ch-1", "before", map[string]any{"name": "A", "email": "a@x"}, "after", map[string]any{"name": "B", "email": "b@x"}),
			chg("id", "ch-2", "before", map[string]any{"name": "A"}, "after", map[string]any{"name": "A"}),
			chg("id", "ch-3", "before", nil, "after", map[string]any{"name": "C"}, "date", nil),
		}
		first := srv.MustChanges(t, a, items...)
		if len(first) != 3 {
			t.Fatalf("records: got %v, want %v", len(first), 3)
		}
		n := srv.Count(t, a, nil)
		again := srv.MustChanges(t, a, items...)
		if !reflect.DeepEqual(again, first) {
			t.Errorf("retry: got %+v, want %+v", again, first)
		}
		if got := srv.Count(t, a, nil); got != n {
			t.Errorf("count: got %v, want %v", got, n)
		}
		// The retry of one change alone answers its records only.
		one := srv.MustChanges(t, a, items[0])
		if !reflect.DeepEqual(one, first[:2]) {
			t.Errorf("retry of ch-1: got %+v, want %+v", one, first[:2])
		}
	})

	t.Run("OKConcurrentRetries", func(t *testing.T) {
		// Clients racing with the same id: one stores, all get its records.
		n := srv.Count(t, a, nil)
		const clients = 8
		routes := []string{"records", "changes"}
		items := []map[string]any{rec("id", "race-1"), chg("id", "race-1")}
		var (
			mu  sync.Mutex
			got = map[string][][]Record{}
			wg  sync.WaitGroup
		)
		for i := range clients {
			route := routes[i%2]
			body := map[string]any{route: []any{items[i%2]}}
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := doRaw(srv, "POST", a.path("/"+route), a.Key, body)
				if err != nil || r.Status != 201 {
					t.Errorf("client %d: got %v %v, want 201", i, err, r)
					return
				}
				var v struct{ Records []Record }
				json.Unmarshal(r.Body, &v)
				mu.Lock()
				got[route] = append(got[route], v.Records)
				mu.Unlock()
			}()
		}
		wg.Wait()
		for route, answers := range got {
			for _, rs := range answers[1:] {
				if !reflect.DeepEqual(rs, answers[0]) {
					t.Errorf("%s: got %+v, want %+v, the records first stored", route, rs, answers[0])
				}
			}
		}
		if got := srv.Count(t, a, nil); got != n+2 {
			t.Errorf("count: got %v, want %v (one record per route)", got, n+2)
		}
	})

	t.Run("ErrIdempotencyConflictChanges", func(t *testing.T) {
		srv.MustChanges(t, a, chg("id", "cc-1"))
		n := srv.Count(t, a, nil)
		e := MustError(t, srv.PostChanges(t, a, chg("id", "cc-new"), chg("id", "cc-1", "after", map[string]any{"name": "Other"})), 409, "idempotency_conflict")
		MustDetails(t, e, Detail{1, "id"})
		if got := srv.Count(t, a, nil); got != n {
			t.Errorf("count: got %v, want %v", got, n)
		}
	})
}

// TestEnablement checks SPEC §4: nothing is recorded while the audit trail
// is disabled, nor anything dated before it was last enabled.
func TestEnablement(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "enablement", false)
	patch := func(t *testing.T, on bool) map[string]any {
		t.Helper()
		v := srv.Must(t, 200, "PATCH", a.path(""), a.AdminToken, map[string]any{"audit_trail_enabled": on}).JSON(t)
		if v["audit_trail_enabled"] != on {
			t.Fatalf("audit_trail_enabled: got %v, want %v", v["audit_trail_enabled"], on)
		}
		return v
	}

	v := srv.Must(t, 200, "GET", a.path(""), a.AdminToken, nil).JSON(t)
	if v["audit_trail_enabled"] != false || v["audit_trail_enabled_at"] != nil {
		t.Fatalf("new account: got enabled %v at %v, want false at null", v["audit_trail_enabled"], v["audit_trail_enabled_at"])
	}
	MustError(t, srv.PostRecords(t, a, rec()), 409, "audit_trail_disabled")
	MustError(t, srv.PostChanges(t, a, chg()), 409, "audit_trail_disabled")

	before := time.Now()
	v = patch(t, true)
	t1 := mustTime(t, v["audit_trail_enabled_at"].(string))
	if t1.Before(before.Add(-time.Second)) || t1.After(time.Now().Add(time.Second)) {
		t.Errorf("audit_trail_enabled_at: got %v, want about %v", t1, ts(before))
	}
	srv.MustRecords(t, a, rec("date", ts(t1)), rec())
	srv.MustChanges(t, a, chg("date", ts(t1)))
	e := MustError(t, srv.PostRecords(t, a, rec("date", ts(t1.Add(-time.Millisecond)))), 422, "before_enabled")
	MustDetails(t, e, Detail{0, "date"})
	MustError(t, srv.PostChanges(t, a, chg("date", ts(t1.Add(-time.Hour)))), 422, "before_enabled")

	patch(t, false)
	MustError(t, srv.PostRecords(t, a, rec()), 409, "audit_trail_disabled")
	MustError(t, srv.PostChanges(t, a, chg()), 409, "audit_trail_disabled")
	if got := srv.enabledAt(t, a); !got.Equal(t1) {
		t.Errorf("audit_trail_enabled_at after disabling: got %v, want %v kept", ts(got), ts(t1))
	}

	time.Sleep(50 * time.Millisecond)
	v = patch(t, true)
	t2 := mustTime(t, v["audit_trail_enabled_at"].(string))
	if !t2.After(t1) {
		t.Fatalf("audit_trail_enabled_at: got %v, want after %v", ts(t2), ts(t1))
	}
	between := t1.Add(t2.Sub(t1) / 2)
	MustError(t, srv.PostRecords(t, a, rec("date", ts(between))), 422, "before_enabled")
	MustError(t, srv.PostRecords(t, a, rec("date", ts(t2.Add(-time.Millisecond)))), 422, "before_enabled")
	MustError(t, srv.PostChanges(t, a, chg("date", ts(between))), 422, "before_enabled")
	srv.MustRecords(t, a, rec("date", ts(t2)))

	// Enabling again while enabled keeps the enabling time.
	patch(t, true)
	if got := srv.enabledAt(t, a); !got.Equal(t2) {
		t.Errorf("audit_trail_enabled_at: got %v, want %v kept", ts(got), ts(t2))
	}
}

// TestSource checks that a record's source tells the service's own records
// from a publisher's (SPEC §2): no publisher key can pass for the service.
func TestSource(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "source", true)
	for _, name := range []string{"audittrail"} {
		r := srv.Do(t, "POST", a.path("/publisher-keys"), a.AdminToken, map[string]string{"name": name})
		if r.Status != 201 {
			continue // refusing the service's name is one way to keep source reliable
		}
		key := r.JSON(t)["key"].(string)
		r = srv.Do(t, "POST", a.path("/records"), key, records(rec("object_type", "users", "element", "password", "new_value", "x")))
		if r.Status != 201 {
			continue
		}
		for _, rc := range decodeRecords(t, r) {
			if rc.Source == "audittrail" {
				t.Errorf("key named %q: got source %q, want a source that does not pass for the service's own records", name, rc.Source)
			}
		}
	}
}
