package tlog_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/tlog"
	"github.com/gowebpki/jcs"
)

// canonical is the definition of the leaf bytes: the API's JSON of the
// record without id and received_at, through a general RFC 8785
// implementation. LeafData must equal it.
func canonical(tb testing.TB, r *audittrail.Record) []byte {
	tb.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	delete(m, "id")
	delete(m, "received_at")
	b, err = json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := jcs.Transform(b)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func sample() *audittrail.Record {
	return &audittrail.Record{
		ID: "rec_x", Seq: 42, ObjectType: "users", ObjectID: "7", ObjectName: "Bob <Agent> & \"Co\"",
		ActionType: "edit", Element: "Email", OldValue: "bob@old.example", NewValue: "bob@new.example\n\t\u2028é😀\x01",
		Date:       time.Date(2026, 11, 25, 9, 30, 0, 123e6, time.UTC),
		Originator: audittrail.Originator{ID: "u1", Name: "Ada", LoginName: "ada", Profiles: []string{"Administrator", "B"}, IsLPA: true, AuthType: "SSO", UserAgent: "curl", EmployeeID: "E1"},
		Automatic:  true, ChangeID: "chg_1", ReceivedAt: time.Now(), Source: "platform",
	}
}

func TestLeafData(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		r := sample()
		if got, want := tlog.LeafData(r), canonical(t, r); !bytes.Equal(got, want) {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	})
	t.Run("MinimalOriginator", func(t *testing.T) {
		r := sample()
		r.Originator = audittrail.Originator{Name: "System"}
		r.Automatic = false
		if got, want := tlog.LeafData(r), canonical(t, r); !bytes.Equal(got, want) {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	})
	t.Run("IgnoresIDAndReceivedAt", func(t *testing.T) {
		a, b := sample(), sample()
		b.ID, b.ReceivedAt = "rec_other", b.ReceivedAt.Add(time.Hour)
		if !bytes.Equal(tlog.LeafHash(a), tlog.LeafHash(b)) {
			t.Fatal("leaf hash depends on id or received_at")
		}
		b.OldValue += "x"
		if bytes.Equal(tlog.LeafHash(a), tlog.LeafHash(b)) {
			t.Fatal("leaf hash does not depend on old_value")
		}
	})
}

func FuzzLeafData(f *testing.F) {
	f.Add("Bob", "a\u2028b", "<&>", "\x7f\x00\"\\", int64(3), false)
	f.Add("é", "\xff\xfe", "", "😀", int64(0), true)
	f.Fuzz(func(t *testing.T, name, old, new, origin string, seq int64, lpa bool) {
		r := sample()
		r.ObjectName, r.OldValue, r.NewValue, r.Originator.Name, r.Seq, r.Originator.IsLPA = name, old, new, origin, seq, lpa
		if got, want := tlog.LeafData(r), canonical(t, r); !bytes.Equal(got, want) {
			t.Fatalf("got  %q\nwant %q", got, want)
		}
	})
}
