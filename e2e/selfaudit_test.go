package e2e

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

// TestSelfAuditConcurrentPatches sends concurrent PATCHes of one user and
// checks the trail the service wrote about them: for every element, each
// record's old value is the previous record's new value, and the last new
// value is the user as stored. A diff computed outside the write's
// transaction would record stale old values, or lose an update.
func TestSelfAuditConcurrentPatches(t *testing.T) {
	srv := MustStart(t)
	a := srv.MustAccount(t, "race", true)
	profiles := peopleProfileIDs(t, srv, a)
	id := peopleCreateUser(t, srv, a, "bob", profiles["Agent"])

	const writers, patches = 4, 8
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range patches {
				body := map[string]any{"name": fmt.Sprintf("Bob %d.%d", w, i)}
				if i%2 == 1 { // every other one changes two elements at once
					body["email"] = fmt.Sprintf("bob-%d-%d@example.com", w, i)
				}
				if r := srv.Do(t, "PATCH", a.path("/users/"+id), a.AdminToken, body); r.Status != 200 {
					t.Errorf("PATCH: got status %d, want 200: %s", r.Status, r.Body)
				}
			}
		}()
	}
	wg.Wait()

	recs := srv.ListAll(t, a, vals("object_type", "users", "object_id", id, "action_type", "edit"))
	slices.SortFunc(recs, func(x, y Record) int { return int(x.Seq - y.Seq) })
	byElement := map[string][]Record{}
	for _, r := range recs {
		byElement[r.Element] = append(byElement[r.Element], r)
	}
	if got := len(byElement["Name"]); got != writers*patches {
		t.Fatalf("Name records: got %d, want %d (one per PATCH)", got, writers*patches)
	}
	stored := srv.Must(t, 200, "GET", a.path("/users/"+id), a.AdminToken, nil).JSON(t)
	want := map[string]any{"Name": stored["name"], "Email": stored["email"]}
	for element, rs := range byElement {
		for i := 1; i < len(rs); i++ {
			if rs[i].OldValue != rs[i-1].NewValue {
				t.Errorf("%s: record seq %d: got old value %q, want %q, the new value of seq %d", element, rs[i].Seq, rs[i].OldValue, rs[i-1].NewValue, rs[i-1].Seq)
			}
		}
		if w, ok := want[element]; ok && rs[len(rs)-1].NewValue != w {
			t.Errorf("%s: last new value %q, want the stored %q", element, rs[len(rs)-1].NewValue, w)
		}
	}
}
