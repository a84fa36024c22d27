package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
)

// mustAppendDataset appends n records of varied content to the account,
// dated from base on, many of them sharing a date, and returns them as
// stored.
func mustAppendDataset(tb testing.TB, s audittrail.Store, accountID string, n int, base time.Time) []*audittrail.Record {
	tb.Helper()
	types := []string{"users", "skills", "lobs", "working_hours"}
	actions := []string{audittrail.ActionAdd, audittrail.ActionEdit, audittrail.ActionDelete}
	elements := []string{"Name", "Email", "Member of", "Skills", "Enabled"}
	names := []string{"Alice", "Bob", "Sales Team", "alice"}
	originators := []audittrail.Originator{{ID: "o1", Name: "Ann Admin"}, {ID: "o2", Name: "Bo Boss", IsLPA: true}, {ID: "o3", Name: "o1"}}
	values := []string{"Hello World", "hello there", "HELLO", "Zürich", "100%_done", ""}

	rs := make([]*audittrail.Record, n)
	for i := range rs {
		r := NewRecord(base.Add(time.Duration(i%23) * time.Minute))
		r.ObjectType = types[i%len(types)]
		r.ActionType = actions[i%len(actions)]
		r.Element = elements[i%len(elements)]
		r.ObjectName = names[i%len(names)]
		r.ObjectID = fmt.Sprintf("id-%d", i%7)
		r.Originator = originators[i%len(originators)]
		r.OldValue = values[i%len(values)]
		r.NewValue = values[(i+2)%len(values)]
		r.Automatic = i%4 == 1
		rs[i] = r
	}
	var stored []*audittrail.Record
	for len(rs) > 0 {
		k := min(len(rs), 40)
		stored = append(stored, MustAppend(tb, s, accountID, Entries(rs[:k]...)...)...)
		rs = rs[k:]
	}
	return stored
}

// matches is what a filter means, written plainly: the reference that the
// results of a store are checked against.
func matches(f audittrail.RecordFilter, r *audittrail.Record) bool {
	switch {
	case r.AccountID != f.AccountID:
		return false
	case f.From != nil && r.Date.Before(*f.From):
		return false
	case f.To != nil && r.Date.After(*f.To):
		return false
	case len(f.ObjectTypes) > 0 && !slices.Contains(f.ObjectTypes, r.ObjectType):
		return false
	case len(f.ActionTypes) > 0 && !slices.Contains(f.ActionTypes, r.ActionType):
		return false
	case f.Element != "" && r.Element != f.Element:
		return false
	case f.ObjectName != "" && r.ObjectName != f.ObjectName:
		return false
	case f.ObjectID != "" && r.ObjectID != f.ObjectID:
		return false
	case f.Originator != "" && r.Originator.ID != f.Originator && r.Originator.Name != f.Originator:
		return false
	case len(f.Originators) > 0 && !slices.Contains(f.Originators, r.Originator.ID) && !slices.Contains(f.Originators, r.Originator.Name):
		return false
	case f.ExcludeLPA && r.Originator.IsLPA:
		return false
	case f.ExcludeAutomatic && r.Automatic:
		return false
	case f.Query != "" && !strings.Contains(audittrail.SearchText(r), audittrail.SearchFold(f.Query)):
		return false
	case f.After != nil && !newestFirst(&audittrail.Record{Date: f.After.Date, Seq: f.After.Seq}, r):
		return false
	}
	return true
}

// newestFirst reports whether a comes before b in the newest-first order.
func newestFirst(a, b *audittrail.Record) bool {
	return a.Date.After(b.Date) || (a.Date.Equal(b.Date) && a.Seq > b.Seq)
}

// expected returns the records of all that match f, newest first.
func expected(f audittrail.RecordFilter, all []*audittrail.Record) []*audittrail.Record {
	var out []*audittrail.Record
	for _, r := range all {
		if matches(f, r) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *audittrail.Record) int {
		if c := b.Date.Compare(a.Date); c != 0 {
			return c
		}
		return cmp.Compare(b.Seq, a.Seq)
	})
	return out
}

// filterCases returns, for a dataset made by mustAppendDataset from base,
// filters that exercise every condition alone and combined.
func filterCases(accountID string, base time.Time) []struct {
	name string
	f    audittrail.RecordFilter
} {
	at := func(min int) *time.Time { t := base.Add(time.Duration(min) * time.Minute); return &t }
	type tc = struct {
		name string
		f    audittrail.RecordFilter
	}
	f := func(mod func(*audittrail.RecordFilter)) audittrail.RecordFilter {
		f := audittrail.RecordFilter{AccountID: accountID}
		mod(&f)
		return f
	}
	return []tc{
		{"All", f(func(f *audittrail.RecordFilter) {})},
		{"From", f(func(f *audittrail.RecordFilter) { f.From = at(10) })},
		{"To", f(func(f *audittrail.RecordFilter) { f.To = at(10) })},
		{"FromTo", f(func(f *audittrail.RecordFilter) { f.From, f.To = at(5), at(12) })},
		{"FromEqualsTo", f(func(f *audittrail.RecordFilter) { f.From, f.To = at(7), at(7) })},
		{"FromAfterTo", f(func(f *audittrail.RecordFilter) { f.From, f.To = at(12), at(5) })},
		{"FromBetweenDates", f(func(f *audittrail.RecordFilter) { f.From = ptr(at(7).Add(time.Millisecond)) })},
		{"ToBetweenDates", f(func(f *audittrail.RecordFilter) { f.To = ptr(at(7).Add(-time.Millisecond)) })},
		{"ObjectType", f(func(f *audittrail.RecordFilter) { f.ObjectTypes = []string{"skills"} })},
		{"ObjectTypes", f(func(f *audittrail.RecordFilter) { f.ObjectTypes = []string{"skills", "lobs"} })},
		{"ObjectTypeUnknown", f(func(f *audittrail.RecordFilter) { f.ObjectTypes = []string{"campaign_scheduling"} })},
		{"ActionType", f(func(f *audittrail.RecordFilter) { f.ActionTypes = []string{audittrail.ActionDelete} })},
		{"ActionTypes", f(func(f *audittrail.RecordFilter) {
			f.ActionTypes = []string{audittrail.ActionAdd, audittrail.ActionEdit}
		})},
		{"Element", f(func(f *audittrail.RecordFilter) { f.Element = "Member of" })},
		{"ElementExact", f(func(f *audittrail.RecordFilter) { f.Element = "Member" })},
		{"ObjectName", f(func(f *audittrail.RecordFilter) { f.ObjectName = "Alice" })},
		{"ObjectNameCase", f(func(f *audittrail.RecordFilter) { f.ObjectName = "alice" })},
		{"ObjectID", f(func(f *audittrail.RecordFilter) { f.ObjectID = "id-3" })},
		{"OriginatorID", f(func(f *audittrail.RecordFilter) { f.Originator = "o2" })},
		{"OriginatorName", f(func(f *audittrail.RecordFilter) { f.Originator = "Ann Admin" })},
		{"OriginatorIDOrName", f(func(f *audittrail.RecordFilter) { f.Originator = "o1" })},
		{"OriginatorUnknown", f(func(f *audittrail.RecordFilter) { f.Originator = "nobody" })},
		{"Originators", f(func(f *audittrail.RecordFilter) { f.Originators = []string{"o2", "Ann Admin"} })},
		{"OriginatorsOne", f(func(f *audittrail.RecordFilter) { f.Originators = []string{"o1"} })},
		{"OriginatorsUnknown", f(func(f *audittrail.RecordFilter) { f.Originators = []string{"nobody", "no one"} })},
		{"OriginatorAndOriginators", f(func(f *audittrail.RecordFilter) { f.Originator, f.Originators = "o1", []string{"o1", "o2"} })},
		{"OriginatorNotInOriginators", f(func(f *audittrail.RecordFilter) { f.Originator, f.Originators = "o2", []string{"o1"} })},
		{"ExcludeLPA", f(func(f *audittrail.RecordFilter) { f.ExcludeLPA = true })},
		{"ExcludeAutomatic", f(func(f *audittrail.RecordFilter) { f.ExcludeAutomatic = true })},
		{"ExcludeBoth", f(func(f *audittrail.RecordFilter) { f.ExcludeLPA, f.ExcludeAutomatic = true, true })},
		{"OriginatorsExcludeLPA", f(func(f *audittrail.RecordFilter) {
			f.Originators, f.ExcludeLPA, f.ObjectTypes = []string{"o2", "o1"}, true, []string{"users", "skills"}
		})},
		{"Query", f(func(f *audittrail.RecordFilter) { f.Query = "hello" })},
		{"QueryUpperCase", f(func(f *audittrail.RecordFilter) { f.Query = "HeLLo W" })},
		{"QueryUnicode", f(func(f *audittrail.RecordFilter) { f.Query = "ZÜRICH" })},
		{"QueryWildcards", f(func(f *audittrail.RecordFilter) { f.Query = "%_" })},
		{"QueryUnderscore", f(func(f *audittrail.RecordFilter) { f.Query = "0_d" })},
		{"QueryOriginatorName", f(func(f *audittrail.RecordFilter) { f.Query = "bo boss" })},
		{"QueryObjectName", f(func(f *audittrail.RecordFilter) { f.Query = "sales" })},
		{"QueryElement", f(func(f *audittrail.RecordFilter) { f.Query = "member" })},
		{"QueryNoMatch", f(func(f *audittrail.RecordFilter) { f.Query = "nothing like it" })},
		{"TypesActionsOriginator", f(func(f *audittrail.RecordFilter) {
			f.ObjectTypes, f.ActionTypes, f.Originator = []string{"users", "lobs"}, []string{audittrail.ActionEdit, audittrail.ActionDelete}, "o1"
		})},
		{"TimeAndQuery", f(func(f *audittrail.RecordFilter) { f.From, f.To, f.Query = at(3), at(15), "hello" })},
		{"ElementNameID", f(func(f *audittrail.RecordFilter) { f.Element, f.ObjectName, f.ObjectID = "Email", "Bob", "id-1" })},
		{"Everything", f(func(f *audittrail.RecordFilter) {
			f.From, f.To = at(0), at(22)
			f.ObjectTypes, f.ActionTypes = []string{"users", "skills", "lobs", "working_hours"}, []string{audittrail.ActionAdd, audittrail.ActionEdit}
			f.Element, f.Originator, f.Query = "Name", "Ann Admin", "e"
		})},
		{"OtherAccount", audittrail.RecordFilter{AccountID: "no-such-account"}},
	}
}

func testFindRecords(t *testing.T, open OpenFunc) {
	s, clk := MustOpen(t, open)
	fx := MustCreateAccount(t, s, clk, true)
	id := fx.Account.ID
	base := clk.Now().Add(time.Hour)
	all := mustAppendDataset(t, s, id, 150, base)
	// Another account's records, which no filter of this one returns.
	other := MustCreateAccount(t, s, clk, true).Account.ID
	mustAppendDataset(t, s, other, 30, base)

	for _, tc := range filterCases(id, base) {
		t.Run(tc.name, func(t *testing.T) {
			want := expected(tc.f, all)
			f := tc.f
			f.Limit = audittrail.MaxLimit
			got, err := s.FindRecords(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			CheckRecords(t, got, want)

			// Every page of a small limit, one after another, makes the same list.
			CheckRecords(t, mustPage(t, s, tc.f, 4), want)

			// A limit takes the newest.
			f.Limit = 5
			if got, err = s.FindRecords(ctx, f); err != nil {
				t.Fatal(err)
			}
			CheckRecords(t, got, want[:min(5, len(want))])
		})
	}

	t.Run("DefaultLimit", func(t *testing.T) {
		got, err := s.FindRecords(ctx, audittrail.RecordFilter{AccountID: id})
		if err != nil {
			t.Fatal(err)
		}
		CheckRecords(t, got, expected(audittrail.RecordFilter{AccountID: id}, all)[:audittrail.DefaultLimit])
	})

	t.Run("FindRecord", func(t *testing.T) {
		for _, r := range all[:10] {
			got, err := s.FindRecord(ctx, id, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			CheckRecords(t, []*audittrail.Record{got}, []*audittrail.Record{r})
		}
		_, err := s.FindRecord(ctx, id, "rec_missing")
		CheckCode(t, err, audittrail.ENOTFOUND)
	})
}

func testCount(t *testing.T, open OpenFunc) {
	s, clk := MustOpen(t, open)
	fx := MustCreateAccount(t, s, clk, true)
	id := fx.Account.ID
	base := clk.Now().Add(time.Hour)
	all := mustAppendDataset(t, s, id, 120, base)
	mustAppendDataset(t, s, MustCreateAccount(t, s, clk, true).Account.ID, 30, base)

	for _, tc := range filterCases(id, base) {
		t.Run(tc.name, func(t *testing.T) {
			want := len(expected(tc.f, all))
			// Limit and After do not count.
			f := tc.f
			f.Limit, f.After = 1, &audittrail.Cursor{Date: base, Seq: 0}
			got, err := s.CountRecords(ctx, f)
			if err != nil {
				t.Fatal(err)
			} else if got != want {
				t.Fatalf("count: got %v, want %v", got, want)
			}
		})
	}
}

func testCursor(t *testing.T, open OpenFunc) {
	s, clk := MustOpen(t, open)
	fx := MustCreateAccount(t, s, clk, true)
	id := fx.Account.ID
	base := clk.Now().Add(time.Hour)
	all := mustAppendDataset(t, s, id, 100, base)
	want := expected(audittrail.RecordFilter{AccountID: id}, all)

	for _, limit := range []int{1, 2, 7, 23, 99, 100, 101} {
		t.Run(fmt.Sprintf("Limit%d", limit), func(t *testing.T) {
			CheckRecords(t, mustPage(t, s, audittrail.RecordFilter{AccountID: id}, limit), want)
		})
	}

	t.Run("Ties", func(t *testing.T) {
		// Records of one date page by seq, newest first.
		tied := MustAppend(t, s, id, Entries(Records(5, base.Add(time.Hour))...)...)
		f := audittrail.RecordFilter{AccountID: id, Limit: 2}
		var got []*audittrail.Record
		for range 3 {
			rs, err := s.FindRecords(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, rs...)
			f.After = audittrail.CursorOf(rs[len(rs)-1])
		}
		CheckRecords(t, got[:5], []*audittrail.Record{tied[4], tied[3], tied[2], tied[1], tied[0]})
		CheckRecords(t, got[5:], want[:1])
	})

	t.Run("AnyPosition", func(t *testing.T) {
		// A cursor need not point at a record.
		after := &audittrail.Cursor{Date: base.Add(7*time.Minute + time.Second), Seq: 0}
		f := audittrail.RecordFilter{AccountID: id, After: after, Limit: audittrail.MaxLimit}
		got, err := s.FindRecords(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		CheckRecords(t, got, expected(f, all))
		if len(got) == 0 || len(got) == len(all) {
			t.Fatalf("records after %#v: got %d, want some but not all", after, len(got))
		}
	})
}

func testIsolation(t *testing.T, open OpenFunc) {
	s, clk := MustOpen(t, open)
	a := MustCreateAccount(t, s, clk, true)
	b := MustCreateAccount(t, s, clk, true)
	ra := mustAppendDataset(t, s, a.Account.ID, 10, start)
	rb := mustAppendDataset(t, s, b.Account.ID, 5, start)
	bID := b.Account.ID

	// Records.
	_, err := s.FindRecord(ctx, bID, ra[0].ID)
	CheckCode(t, err, audittrail.ENOTFOUND)
	CheckRecords(t, MustFindAll(t, s, bID), expected(audittrail.RecordFilter{AccountID: bID}, rb))
	if n, err := s.CountRecords(ctx, audittrail.RecordFilter{AccountID: bID}); err != nil {
		t.Fatal(err)
	} else if n != len(rb) {
		t.Fatalf("count: got %v, want %v", n, len(rb))
	}

	// Users.
	userA := a.Admin
	_, err = FindUser(ctx, s, bID, userA.ID)
	CheckCode(t, err, audittrail.ENOTFOUND)
	bob := &audittrail.User{ID: audittrail.NewID("usr_"), AccountID: a.Account.ID, LoginName: "bob-of-a", Name: "Bob", ProfileID: a.Profiles[0].ID, Enabled: true}
	if err := CreateUser(ctx, s, bob); err != nil {
		t.Fatal(err)
	}
	_, err = FindUserByLogin(ctx, s, bID, "bob-of-a")
	CheckCode(t, err, audittrail.ENOTFOUND)
	if us, err := FindUsers(ctx, s, bID); err != nil {
		t.Fatal(err)
	} else if len(us) != 1 || us[0].ID != b.Admin.ID {
		t.Fatalf("users of %v: got %d, want only its administrator", bID, len(us))
	}
	moved := *userA
	moved.AccountID, moved.ProfileID, moved.Name = bID, b.Profiles[0].ID, "Hijacked"
	CheckCode(t, UpdateUser(ctx, s, &moved), audittrail.ENOTFOUND)
	CheckCode(t, DeleteUser(ctx, s, bID, userA.ID), audittrail.ENOTFOUND)
	if u, err := FindUser(ctx, s, a.Account.ID, userA.ID); err != nil {
		t.Fatal(err)
	} else {
		checkUser(t, u, userA)
	}

	// Profiles.
	_, err = FindProfile(ctx, s, bID, a.Profiles[1].ID)
	CheckCode(t, err, audittrail.ENOTFOUND)
	p := *a.Profiles[2]
	p.AccountID, p.Name = bID, "Hijacked"
	CheckCode(t, UpdateProfile(ctx, s, &p), audittrail.ENOTFOUND)
	CheckCode(t, DeleteProfile(ctx, s, bID, a.Profiles[2].ID), audittrail.ENOTFOUND)
	if got, err := FindProfile(ctx, s, a.Account.ID, a.Profiles[2].ID); err != nil {
		t.Fatal(err)
	} else {
		checkProfile(t, got, a.Profiles[2])
	}

	// Publisher keys and tokens.
	k, hash := mustCreateKey(t, s, a.Account.ID, "crm")
	_, err = RevokePublisherKey(ctx, s, bID, k.ID)
	CheckCode(t, err, audittrail.ENOTFOUND)
	if ks, err := FindPublisherKeys(ctx, s, bID); err != nil {
		t.Fatal(err)
	} else if len(ks) != 0 {
		t.Fatalf("keys of %v: got %d, want 0", bID, len(ks))
	}
	if p, err := s.Authenticate(ctx, hash); err != nil {
		t.Fatal(err)
	} else if p.AccountID != a.Account.ID {
		t.Fatalf("account of the key: got %v, want %v", p.AccountID, a.Account.ID)
	}
	tok := &audittrail.Token{Hash: newHash(), AccountID: bID, UserID: userA.ID, CreatedAt: clk.Now(), ExpiresAt: clk.Now().Add(time.Hour)}
	if err := CreateToken(ctx, s, tok); err == nil {
		t.Fatalf("CreateToken for another account's user: got nil error, want an error")
	}
	_, err = s.Authenticate(ctx, tok.Hash)
	CheckCode(t, err, audittrail.EUNAUTHENTICATED)
}
