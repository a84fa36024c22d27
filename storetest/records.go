package storetest

import (
	"testing"
	"time"

	"github.com/audittrail/audittrail"
)

func testAppendRecords(t *testing.T, open OpenFunc) {
	t.Run("OK", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		fx := MustCreateAccount(t, s, clk, true)
		id := fx.Account.ID
		clk.Add(time.Minute)

		// A change of two records, a record with every field, a change that
		// made no record.
		date := start.Add(30*time.Second + 123456789*time.Nanosecond)
		change := Records(2, date)
		full := NewRecord(date)
		full.ActionType, full.OldValue, full.Automatic = audittrail.ActionAdd, "", true
		full.Originator = audittrail.Originator{ID: "lpa-7", Name: "Vendor Vic", LoginName: "vic", EmployeeID: "E-7",
			Profiles: []string{"Administrator", "Agent"}, UserAgent: "Mozilla/5.0", AuthType: "sso", IsLPA: true}
		entries := []audittrail.Entry{{Records: change}, {Records: []*audittrail.Record{full}}, {Records: nil}}
		in := []*audittrail.Record{change[0], change[1], full}

		got := MustAppend(t, s, id, entries...)
		if len(got) != 3 {
			t.Fatalf("records: got %d, want 3", len(got))
		}
		seen := map[string]bool{}
		for i, r := range got {
			want := *in[i]
			want.AccountID, want.ID, want.Seq, want.ReceivedAt = id, r.ID, int64(i), clk.Now()
			want.Date = audittrail.TruncateTime(date)
			CheckRecords(t, []*audittrail.Record{r}, []*audittrail.Record{&want})
			if r.ID == "" || seen[r.ID] {
				t.Fatalf("record %d id: got %q, want a new unique id", i, r.ID)
			}
			seen[r.ID] = true

			stored, err := s.FindRecord(ctx, id, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			CheckRecords(t, []*audittrail.Record{stored}, []*audittrail.Record{r})
		}
		if got[0].ChangeID != change[0].ChangeID {
			t.Fatalf("change id: got %v, want %v", got[0].ChangeID, change[0].ChangeID)
		}

		// Seqs go on where the last append stopped.
		more := MustAppend(t, s, id, Entries(Records(2, date)...)...)
		if more[0].Seq != 3 || more[1].Seq != 4 {
			t.Fatalf("seqs: got %v, want [3 4]", seqs(more))
		}
		CheckRecords(t, MustFindAll(t, s, id), []*audittrail.Record{more[1], more[0], got[2], got[1], got[0]})
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s, _ := MustOpen(t, open)
		_, err := s.AppendRecords(ctx, "no-such-account", Entries(NewRecord(start)))
		CheckCode(t, err, audittrail.ENOTFOUND)
		_, err = s.FindRecord(ctx, "no-such-account", "rec_missing")
		CheckCode(t, err, audittrail.ENOTFOUND)
	})

	t.Run("SeqPerAccount", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		a := MustCreateAccount(t, s, clk, true).Account.ID
		b := MustCreateAccount(t, s, clk, true).Account.ID
		MustAppend(t, s, a, Entries(Records(3, start)...)...)
		rs := MustAppend(t, s, b, Entries(Records(2, start)...)...)
		if rs[0].Seq != 0 || rs[1].Seq != 1 {
			t.Fatalf("seqs of a second account: got %v, want [0 1]", seqs(rs))
		}
	})

	t.Run("Empty", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		id := MustCreateAccount(t, s, clk, true).Account.ID
		rs, err := s.AppendRecords(ctx, id, nil)
		if err != nil {
			t.Fatal(err)
		} else if len(rs) != 0 {
			t.Fatalf("records: got %d, want 0", len(rs))
		}
		rs = MustAppend(t, s, id, Entries(NewRecord(start))...)
		if rs[0].Seq != 0 {
			t.Fatalf("seq: got %v, want 0", rs[0].Seq)
		}
	})
}

func testIdempotency(t *testing.T, open OpenFunc) {
	keyed := func(key, fingerprint string, rs ...*audittrail.Record) audittrail.Entry {
		return audittrail.Entry{IdempotencyKey: key, Fingerprint: fingerprint, Records: rs}
	}

	t.Run("Retry", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		id := MustCreateAccount(t, s, clk, true).Account.ID
		first := MustAppend(t, s, id, keyed("k1", "fp1", Records(2, start)...))

		// A retry answers the records first stored, whatever records it
		// carries: the fingerprint tells that the content is the same.
		clk.Add(time.Minute)
		again := MustAppend(t, s, id, keyed("k1", "fp1", Records(2, start.Add(time.Second))...))
		CheckRecords(t, again, first)

		// A batch that holds a retry and a new entry stores the new one only.
		rs := MustAppend(t, s, id, keyed("k1", "fp1", Records(2, start)...), keyed("k2", "fp2", NewRecord(start)))
		if len(rs) != 3 {
			t.Fatalf("records: got %d, want 3", len(rs))
		}
		CheckRecords(t, rs[:2], first)
		if rs[2].Seq != 2 {
			t.Fatalf("seq of the new record: got %v, want 2", rs[2].Seq)
		}
		if all := MustFindAll(t, s, id); len(all) != 3 {
			t.Fatalf("stored records: got %d, want 3", len(all))
		}
	})

	t.Run("SameCall", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		id := MustCreateAccount(t, s, clk, true).Account.ID
		rs := MustAppend(t, s, id, keyed("k1", "fp1", NewRecord(start)), keyed("k1", "fp1", NewRecord(start)))
		if len(rs) != 2 {
			t.Fatalf("records: got %d, want 2", len(rs))
		}
		CheckRecords(t, rs[1:], rs[:1])
		if all := MustFindAll(t, s, id); len(all) != 1 {
			t.Fatalf("stored records: got %d, want 1", len(all))
		}

		_, err := s.AppendRecords(ctx, id, []audittrail.Entry{keyed("k2", "fp1", NewRecord(start)), keyed("k2", "fp2", NewRecord(start))})
		CheckCode(t, err, audittrail.EIDEMPOTENCYCONFLICT)
		if all := MustFindAll(t, s, id); len(all) != 1 {
			t.Fatalf("stored records after a conflict: got %d, want 1", len(all))
		}
	})

	t.Run("ErrConflict", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		id := MustCreateAccount(t, s, clk, true).Account.ID
		first := MustAppend(t, s, id, keyed("k1", "fp1", NewRecord(start)))

		// The conflict fails the whole call: the new entry before it is not
		// stored, and its key is not taken.
		_, err := s.AppendRecords(ctx, id, []audittrail.Entry{keyed("k2", "fp2", NewRecord(start)), keyed("k1", "other", NewRecord(start))})
		CheckCode(t, err, audittrail.EIDEMPOTENCYCONFLICT)
		CheckRecords(t, MustFindAll(t, s, id), first)

		rs := MustAppend(t, s, id, keyed("k2", "fp2-new", NewRecord(start)))
		if rs[0].Seq != 1 {
			t.Fatalf("seq after a conflict: got %v, want 1", rs[0].Seq)
		}
	})

	t.Run("NoRecords", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		id := MustCreateAccount(t, s, clk, true).Account.ID
		// A change that made no record keeps its key.
		if rs := MustAppend(t, s, id, keyed("k1", "fp1")); len(rs) != 0 {
			t.Fatalf("records: got %d, want 0", len(rs))
		}
		MustAppend(t, s, id, Entries(NewRecord(start))...)
		if rs := MustAppend(t, s, id, keyed("k1", "fp1")); len(rs) != 0 {
			t.Fatalf("records of a retry: got %d, want 0", len(rs))
		}
		_, err := s.AppendRecords(ctx, id, []audittrail.Entry{keyed("k1", "fp2", NewRecord(start))})
		CheckCode(t, err, audittrail.EIDEMPOTENCYCONFLICT)
	})

	t.Run("PerAccount", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		a := MustCreateAccount(t, s, clk, true).Account.ID
		b := MustCreateAccount(t, s, clk, true).Account.ID
		ra := MustAppend(t, s, a, keyed("k1", "fp1", NewRecord(start)))
		rb := MustAppend(t, s, b, keyed("k1", "other", NewRecord(start)))
		if rb[0].ID == ra[0].ID || rb[0].AccountID != b {
			t.Fatalf("record of account %v: got %v of %v, want a new record", b, rb[0].ID, rb[0].AccountID)
		}
	})
}
