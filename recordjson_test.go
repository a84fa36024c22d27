package audittrail

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// encodeView is what the API wrote for a record before AppendJSON:
// encoding/json over recordJSON, HTML left unescaped, without the newline.
func encodeView(tb testing.TB, r *Record) []byte {
	tb.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	v := recordJSON{r.ID, r.Seq, r.ObjectType, r.ObjectID, r.ObjectName, r.ActionType, r.Element,
		r.OldValue, r.NewValue, FormatTime(r.Date), r.Originator, r.Automatic, r.ChangeID, FormatTime(r.ReceivedAt), r.Source}
	if err := enc.Encode(v); err != nil {
		tb.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// jsonStrings need every kind of escape, or none.
var jsonStrings = []string{
	"", "plain", `say "hi"`, `back\slash`, "line\nbreak", "\r\t\b\f", "\x00\x01\x1f\x7f", "<a href='x'>&amp;</a>",
	"Zoë Müller", "日本語", "emoji 🎉", "\u2028\u2029", "bad \xff utf-8", "\xc3", "\xed\xa0\x80", "\ufffd", "=SUM(1)",
}

func TestRecord_AppendJSON(t *testing.T) {
	date := time.Date(2026, 7, 4, 16, 0, 0, 123_000_000, time.UTC)
	base := Record{ID: "rec_1", Seq: 42, ObjectType: "users", ObjectID: "u-1", ObjectName: "Jane", ActionType: ActionEdit,
		Element: "Profile", OldValue: "a", NewValue: "b", Date: date, ChangeID: "chg_1", ReceivedAt: date.Add(time.Second),
		Source: "platform", Originator: Originator{ID: "o-1", Name: "Olivia"}}
	check := func(t *testing.T, r *Record) {
		t.Helper()
		if got, want := r.AppendJSON(nil), encodeView(t, r); !bytes.Equal(got, want) {
			t.Errorf("AppendJSON:\ngot  %s\nwant %s", got, want)
		}
	}
	t.Run("OK", func(t *testing.T) { check(t, &base) })
	t.Run("OKEveryOriginatorField", func(t *testing.T) {
		r := base
		r.Originator = Originator{ID: "o", Name: "n", LoginName: "l", EmployeeID: "e", Profiles: []string{"p1", "p2"}, UserAgent: "u",
			AuthType: "a", IsLPA: true}
		r.Automatic = true
		check(t, &r)
		r.Originator.Profiles = []string{}
		check(t, &r)
	})
	t.Run("OKZero", func(t *testing.T) { check(t, &Record{}) })
	t.Run("OKOtherZone", func(t *testing.T) {
		r := base
		r.Date = date.In(time.FixedZone("X", -5*3600))
		check(t, &r)
	})
	t.Run("OKEscapes", func(t *testing.T) {
		for _, s := range jsonStrings {
			r := base
			r.ID, r.ObjectType, r.ObjectID, r.ObjectName, r.ActionType, r.Element, r.OldValue, r.NewValue = s, s, s, s, s, s, s, s
			r.ChangeID, r.Source = s, s
			r.Originator = Originator{ID: s, Name: s, LoginName: s, EmployeeID: s, Profiles: []string{s, s}, UserAgent: s, AuthType: s}
			check(t, &r)
		}
	})
	t.Run("OKMarshalJSON", func(t *testing.T) {
		// json.Marshal escapes HTML in the Marshaler's output, as before.
		r := base
		r.NewValue = "<b>&</b>"
		got, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		var back Record
		if err := json.Unmarshal(got, &back); err != nil || back.NewValue != r.NewValue || !back.Date.Equal(r.Date) {
			t.Errorf("round trip: got %+v, %v, want %+v", back, err, r)
		}
		if bytes.ContainsAny(got, "<>&") {
			t.Errorf("json.Marshal: got %s, want <, > and & escaped", got)
		}
	})
}

func FuzzRecordAppendJSON(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s, s, int64(7), true)
	}
	f.Fuzz(func(t *testing.T, a, b string, ms int64, flag bool) {
		r := Record{ID: a, Seq: ms, ObjectType: b, ObjectID: a, ObjectName: b, ActionType: a, Element: b, OldValue: a, NewValue: b,
			Date: time.UnixMilli(ms % 253402300799999), Automatic: flag, ChangeID: a, ReceivedAt: time.UnixMilli(-ms % 253402300799999),
			Source: b, Originator: Originator{ID: a, Name: b, LoginName: a, UserAgent: b, IsLPA: flag}}
		if flag {
			r.Originator.Profiles = []string{a, b}
		}
		if got, want := r.AppendJSON(nil), encodeView(t, &r); !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON:\ngot  %s\nwant %s", got, want)
		}
	})
}

func FuzzAppendTime(f *testing.F) {
	for _, t := range []time.Time{{}, time.Unix(0, 0), time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(2026, 7, 4, 16, 0, 0, 123_456_789, time.UTC)} {
		f.Add(t.Unix(), int64(t.Nanosecond()), 0)
	}
	f.Fuzz(func(t *testing.T, sec, nsec int64, offset int) {
		tm := time.Unix(sec, nsec).In(time.FixedZone("", offset%100_000))
		if got, want := string(appendTime(nil, tm)), FormatTime(tm); got != want {
			t.Fatalf("appendTime(%v): got %s, want %s", tm, got, want)
		}
	})
}
