package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
)

// auditEntry returns the entry that the service writes about a change of an
// element of an object: one record, dated by the store.
func auditEntry(objectType, objectID, element, oldValue, newValue string) audittrail.Entry {
	return audittrail.Entry{Records: []*audittrail.Record{{
		ObjectType: objectType, ObjectID: objectID, ObjectName: objectID, ActionType: audittrail.ActionEdit, Element: element,
		OldValue: oldValue, NewValue: newValue, ChangeID: audittrail.NewID("chg_"), Source: "audit trail",
		Originator: audittrail.Originator{ID: "o-admin", Name: "Ada Admin"},
	}}}
}

func testChange(t *testing.T, open OpenFunc) {
	t.Run("StoredTogether", func(t *testing.T) {
		// The change and its trail are stored in one transaction: the
		// records are dated by the store's clock and take the next seqs.
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, true)
		id := fx.Account.ID
		MustAppend(t, s, id, Entries(NewRecord(clk.Now()))...)
		clk.Add(time.Minute)
		p := &audittrail.Profile{AccountID: id, Name: "Auditors", Role: audittrail.RoleAdministrator}
		err := s.Change(ctx, id, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
			if err := tx.CreateProfile(p); err != nil {
				return nil, err
			}
			return []audittrail.Entry{auditEntry("profiles", p.ID, "Name", "", p.Name)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := FindProfile(ctx, s, id, p.ID); err != nil {
			t.Fatalf("profile of the change: %v", err)
		}
		rs := MustFindAll(t, s, id)
		if len(rs) != 2 {
			t.Fatalf("records: got %d, want 2", len(rs))
		}
		r := rs[0]
		if r.Seq != 1 || r.ObjectID != p.ID || r.NewValue != "Auditors" {
			t.Fatalf("audit record: got seq %d %s %q, want seq 1 %s %q", r.Seq, r.ObjectID, r.NewValue, p.ID, "Auditors")
		}
		checkTime(t, "date", r.Date, clk.Now())
		checkTime(t, "received_at", r.ReceivedAt, clk.Now())
		if size, _, err := s.TreeHead(ctx, id); err != nil {
			t.Fatal(err)
		} else if size != 2 {
			t.Fatalf("tree size: got %d, want 2", size)
		}
	})

	t.Run("NotAtAll", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		id := MustCreateAccount(t, s, clk, true).Account.ID

		// fn fails after writing: nothing of it is stored.
		boom := errors.New("boom")
		p := &audittrail.Profile{AccountID: id, Name: "Half done", Role: audittrail.RoleAdministrator}
		err := s.Change(ctx, id, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
			if err := tx.CreateProfile(p); err != nil {
				return nil, err
			}
			return []audittrail.Entry{auditEntry("profiles", p.ID, "Name", "", p.Name)}, boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Change: got %v, want fn's error", err)
		}
		_, err = FindProfile(ctx, s, id, p.ID)
		CheckCode(t, err, audittrail.ENOTFOUND)

		// The trail fails (its key was used for other content): the change
		// is not stored either.
		MustAppend(t, s, id, audittrail.Entry{IdempotencyKey: "k:1", Fingerprint: "a", Records: []*audittrail.Record{NewRecord(clk.Now())}})
		p = &audittrail.Profile{AccountID: id, Name: "Unrecorded", Role: audittrail.RoleAdministrator}
		err = s.Change(ctx, id, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
			if err := tx.CreateProfile(p); err != nil {
				return nil, err
			}
			e := auditEntry("profiles", p.ID, "Name", "", p.Name)
			e.IdempotencyKey, e.Fingerprint = "k:1", "b"
			return []audittrail.Entry{e}, nil
		})
		CheckCode(t, err, audittrail.EIDEMPOTENCYCONFLICT)
		_, err = FindProfile(ctx, s, id, p.ID)
		CheckCode(t, err, audittrail.ENOTFOUND)
		if rs := MustFindAll(t, s, id); len(rs) != 1 {
			t.Fatalf("records: got %d, want the 1 appended", len(rs))
		}
	})

	t.Run("TrailOff", func(t *testing.T) {
		// Nothing is recorded while the trail is off, and no seq is used.
		s, clk := MustOpen(t, open)
		id := MustCreateAccount(t, s, clk, false).Account.ID
		p := &audittrail.Profile{AccountID: id, Name: "Quiet", Role: audittrail.RoleAdministrator}
		err := s.Change(ctx, id, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
			return []audittrail.Entry{auditEntry("profiles", "p", "Name", "", "Quiet")}, tx.CreateProfile(p)
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := FindProfile(ctx, s, id, p.ID); err != nil {
			t.Fatal(err)
		}
		if rs := MustFindAll(t, s, id); len(rs) != 0 {
			t.Fatalf("records while the trail is off: got %d, want 0", len(rs))
		}
		if size, _, err := s.TreeHead(ctx, id); err != nil || size != 0 {
			t.Fatalf("tree size: got %d, %v, want 0", size, err)
		}
	})

	t.Run("TurnOnAndOff", func(t *testing.T) {
		// Turning the trail on is recorded (judged after the change), and so
		// is turning it off (judged before); then nothing is.
		s, clk := MustOpen(t, open)
		id := MustCreateAccount(t, s, clk, false).Account.ID
		on, off := true, false
		if _, err := UpdateAccount(ctx, s, id, audittrail.AccountUpdate{AuditTrailEnabled: &on},
			auditEntry("account", id, "Audit trail", "Off", "On")); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Minute)
		if _, err := UpdateAccount(ctx, s, id, audittrail.AccountUpdate{AuditTrailEnabled: &off},
			auditEntry("account", id, "Audit trail", "On", "Off")); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Minute)
		if _, err := UpdateAccount(ctx, s, id, audittrail.AccountUpdate{Name: ptr("Renamed")},
			auditEntry("account", id, "Name", "Old", "Renamed")); err != nil {
			t.Fatal(err)
		}
		rs := MustFindAll(t, s, id)
		if len(rs) != 2 || rs[0].NewValue != "Off" || rs[1].NewValue != "On" {
			t.Fatalf("records: got %d %v, want the switch on and off", len(rs), seqs(rs))
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s, _ := MustOpen(t, open)
		called := false
		err := s.Change(ctx, "no-such-account", func(tx audittrail.Tx) ([]audittrail.Entry, error) {
			called = true
			return nil, nil
		})
		CheckCode(t, err, audittrail.ENOTFOUND)
		if called {
			t.Fatal("fn called for an unknown account")
		}
	})

	t.Run("SelfAuditRace", func(t *testing.T) {
		// Changes of one user at once, each reading the user inside its
		// change: the records' old and new values chain, each record's old
		// value the previous one's new value, the last one's the stored
		// state. What fn reads stays true until it commits.
		const writers, changes = 8, 4
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, true)
		id, userID := fx.Account.ID, fx.Admin.ID
		var wg sync.WaitGroup
		errs := make(chan error, writers*changes)
		for w := range writers {
			wg.Go(func() {
				for c := range changes {
					err := s.Change(ctx, id, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
						u, err := tx.FindUser(id, userID)
						if err != nil {
							return nil, err
						}
						old := u.Name
						u.Name = fmt.Sprintf("Ada %d.%d", w, c)
						if err := tx.UpdateUser(u); err != nil {
							return nil, err
						}
						return []audittrail.Entry{auditEntry("users", userID, "Name", old, u.Name)}, nil
					})
					if err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		var rs []*audittrail.Record
		if err := s.IterateRecordsBySeq(ctx, id, func(r *audittrail.Record) error {
			rs = append(rs, r)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(rs) != writers*changes {
			t.Fatalf("records: got %d, want %d", len(rs), writers*changes)
		}
		prev := fx.Admin.Name
		for i, r := range rs {
			if r.OldValue != prev {
				t.Fatalf("record %d (seq %d): old value got %q, want the previous new value %q", i, r.Seq, r.OldValue, prev)
			}
			prev = r.NewValue
		}
		u, err := FindUser(ctx, s, id, userID)
		if err != nil {
			t.Fatal(err)
		} else if u.Name != prev {
			t.Fatalf("stored name: got %q, want the last record's new value %q", u.Name, prev)
		}
	})

	t.Run("Subscribe", func(t *testing.T) {
		// Each commit that made records durable is announced once, after
		// it, with its seqs; a replay and a change without a trail are not.
		s, clk := MustOpen(t, open)
		id := MustCreateAccount(t, s, clk, true).Account.ID
		var mu sync.Mutex
		var got []audittrail.Commit
		unsubscribe := s.Subscribe(func(c audittrail.Commit) {
			if c.AccountID == id {
				mu.Lock()
				got = append(got, c)
				mu.Unlock()
			}
		})
		keyed := audittrail.Entry{IdempotencyKey: "k:1", Fingerprint: "f", Records: Records(3, clk.Now())}
		MustAppend(t, s, id, keyed)
		MustAppend(t, s, id, keyed) // a replay: nothing committed
		if err := s.Change(ctx, id, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
			return []audittrail.Entry{auditEntry("account", id, "Name", "a", "b")}, nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.Change(ctx, id, func(tx audittrail.Tx) ([]audittrail.Entry, error) { return nil, nil }); err != nil {
			t.Fatal(err)
		}
		unsubscribe()
		MustAppend(t, s, id, Entries(NewRecord(clk.Now()))...)
		mu.Lock()
		defer mu.Unlock()
		want := []audittrail.Commit{{AccountID: id, FirstSeq: 0, EndSeq: 3}, {AccountID: id, FirstSeq: 3, EndSeq: 4}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("commits: got %v, want %v", got, want)
		}
	})
}
