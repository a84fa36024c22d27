package storetest

import (
	"testing"
	"time"

	"github.com/audittrail/audittrail"
)

// testAccess checks the access log's storage (SPEC §11): entries of each
// account apart, newest first, filtered by time, actor and action, paged
// by cursor without repeats, every field kept, and purged with records.
func testAccess(t *testing.T, open OpenFunc) {
	s, clk := MustOpen(t, open)
	id := MustEnabledAccount(t, s, "acme", clk.Now())
	other := MustEnabledAccount(t, s, "other", clk.Now())
	entry := func(account, login, action string, at time.Time) *audittrail.AccessEntry {
		return &audittrail.AccessEntry{AccountID: account, At: at,
			Actor:  audittrail.AccessActor{Kind: audittrail.ActorUser, ID: "usr_" + login, LoginName: login, Name: "User " + login},
			Action: action, Format: "csv", Filters: map[string]string{"object_type": "users"}, Records: 7, Status: 200,
			IP: "127.0.0.1", UserAgent: "test/1"}
	}
	base := clk.Now()
	var batch []*audittrail.AccessEntry
	for i := range 10 {
		action := audittrail.AccessList
		if i%2 == 1 {
			action = audittrail.AccessExport
		}
		login := "ada"
		if i%5 == 0 {
			login = "eve"
		}
		batch = append(batch, entry(id, login, action, base.Add(time.Duration(i)*time.Minute)))
	}
	batch = append(batch, entry(other, "ada", audittrail.AccessList, base))
	if err := s.AppendAccess(ctx, batch); err != nil {
		t.Fatal(err)
	}

	all, err := s.FindAccessEntries(ctx, audittrail.AccessFilter{AccountID: id, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 10 {
		t.Fatalf("entries: got %d, want 10 (of the account only)", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].At.Before(all[i].At) {
			t.Errorf("not newest first at %d", i)
		}
	}
	got := all[0]
	if got.ID == "" || got.Actor.LoginName != "ada" || got.Filters["object_type"] != "users" || got.Records != 7 ||
		got.Status != 200 || got.IP != "127.0.0.1" || got.UserAgent != "test/1" || got.Format != "csv" || !got.At.Equal(base.Add(9*time.Minute)) {
		t.Errorf("entry not kept as written: %+v", got)
	}

	count := func(f audittrail.AccessFilter) int {
		t.Helper()
		f.AccountID, f.Limit = id, 100
		es, err := s.FindAccessEntries(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	from, to := base.Add(2*time.Minute), base.Add(5*time.Minute)
	for name, c := range map[string]struct {
		f    audittrail.AccessFilter
		want int
	}{
		"Actor":         {audittrail.AccessFilter{Actor: "EVE"}, 2},
		"ActorName":     {audittrail.AccessFilter{Actor: "user e"}, 2},
		"Action":        {audittrail.AccessFilter{Actions: []string{audittrail.AccessExport}}, 5},
		"Actions":       {audittrail.AccessFilter{Actions: []string{audittrail.AccessExport, audittrail.AccessList}}, 10},
		"Between":       {audittrail.AccessFilter{From: &from, To: &to}, 4},
		"ActorAndRange": {audittrail.AccessFilter{Actor: "eve", From: &from}, 1},
	} {
		if n := count(c.f); n != c.want {
			t.Errorf("%s: got %d entries, want %d", name, n, c.want)
		}
	}

	seen := map[string]bool{}
	f := audittrail.AccessFilter{AccountID: id, Limit: 3}
	for {
		page, err := s.FindAccessEntries(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			if seen[e.ID] {
				t.Errorf("entry %s repeated", e.ID)
			}
			seen[e.ID] = true
		}
		if len(page) < f.Limit {
			break
		}
		f.After = audittrail.AccessCursorOf(page[len(page)-1])
	}
	if len(seen) != 10 {
		t.Errorf("paged: got %d entries, want 10", len(seen))
	}

	if _, err := s.PurgeRecords(ctx, base.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := count(audittrail.AccessFilter{}); n != 5 {
		t.Errorf("after the purge: got %d entries, want the 5 from the cutoff on", n)
	}
}
