package ingest_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/ingest"
)

var (
	now       = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	enabledAt = now.Add(-24 * time.Hour)
)

func MustIngester(tb testing.TB) *ingest.Ingester {
	tb.Helper()
	c, err := audittrail.NewCatalog(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return ingest.New(c, func() time.Time { return now })
}

func enabled() *audittrail.Account {
	at := enabledAt
	return &audittrail.Account{ID: "acme", AuditTrailEnabled: true, AuditTrailEnabledAt: &at}
}

func record(mod func(*ingest.RecordInput)) ingest.RecordInput {
	r := ingest.RecordInput{ObjectType: "skills", ObjectID: "12", ObjectName: "Billing", ActionType: "edit",
		Element: "Name", OldValue: json.RawMessage(`"Billing"`), NewValue: json.RawMessage(`"Billing EMEA"`),
		Originator: &audittrail.Originator{ID: "u1", Name: "Ada"}}
	if mod != nil {
		mod(&r)
	}
	return r
}

func TestPrepareRecords(t *testing.T) {
	in := MustIngester(t)
	t.Run("OK", func(t *testing.T) {
		entries, err := in.PrepareRecords(enabled(), []ingest.RecordInput{record(nil)}, "platform")
		if err != nil {
			t.Fatal(err)
		}
		r := entries[0].Records[0]
		if r.Element != "Name" || r.OldValue != "Billing" || r.NewValue != "Billing EMEA" || !r.Date.Equal(now) || r.Source != "platform" || r.ChangeID == "" {
			t.Fatalf("got %+v", r)
		}
	})
	t.Run("StructuredValuesRendered", func(t *testing.T) {
		entries, err := in.PrepareRecords(enabled(), []ingest.RecordInput{record(func(r *ingest.RecordInput) {
			r.ObjectType, r.Element = "users", "skills"
			r.OldValue, r.NewValue = json.RawMessage(`["b","a"]`), json.RawMessage(`{"z":1,"a":true}`)
		})}, "p")
		if err != nil {
			t.Fatal(err)
		}
		r := entries[0].Records[0]
		if r.Element != "Skills" || r.OldValue != "a, b" || r.NewValue != `{"a":true,"z":1}` {
			t.Fatalf("got %q %q %q", r.Element, r.OldValue, r.NewValue)
		}
	})
	t.Run("Redacted", func(t *testing.T) {
		for _, el := range []string{"password", "Password", "api_key", "Client Secret"} {
			entries, err := in.PrepareRecords(enabled(), []ingest.RecordInput{record(func(r *ingest.RecordInput) {
				r.ObjectType, r.Element = "users", el
				r.OldValue, r.NewValue = json.RawMessage(`"hunter2"`), json.RawMessage(`"hunter3"`)
			})}, "p")
			if err != nil {
				t.Fatal(err)
			}
			if r := entries[0].Records[0]; r.OldValue != audittrail.Redacted || r.NewValue != audittrail.Redacted {
				t.Errorf("%s: got %q %q, want redacted", el, r.OldValue, r.NewValue)
			}
		}
	})
	t.Run("ErrDisabled", func(t *testing.T) {
		_, err := in.PrepareRecords(&audittrail.Account{ID: "acme"}, []ingest.RecordInput{record(nil)}, "p")
		if code := audittrail.ErrorCode(err); code != audittrail.EAUDITTRAILDISABLED {
			t.Fatalf("got %s, want %s", code, audittrail.EAUDITTRAILDISABLED)
		}
	})
	for _, tt := range []struct {
		name, code, field string
		mod               func(*ingest.RecordInput)
	}{
		{"ErrObjectTypeUnknown", audittrail.EUNKNOWNOBJECTTYPE, "object_type", func(r *ingest.RecordInput) { r.ObjectType = "widgets" }},
		{"ErrLogin", audittrail.EUNKNOWNOBJECTTYPE, "object_type", func(r *ingest.RecordInput) { r.ObjectType = "logins" }},
		{"ErrObjectNameRequired", audittrail.EVALIDATION, "object_name", func(r *ingest.RecordInput) { r.ObjectName = "" }},
		{"ErrObjectNameTooLong", audittrail.EVALUETOOLONG, "object_name", func(r *ingest.RecordInput) { r.ObjectName = strings.Repeat("é", 513) }},
		{"ErrElementTooLong", audittrail.EVALUETOOLONG, "element", func(r *ingest.RecordInput) { r.Element = strings.Repeat("x", 513) }},
		{"ErrOriginatorRequired", audittrail.EVALIDATION, "originator", func(r *ingest.RecordInput) { r.Originator = nil }},
		{"ErrOriginatorNameTooLong", audittrail.EVALUETOOLONG, "originator.name", func(r *ingest.RecordInput) { r.Originator.Name = strings.Repeat("x", 513) }},
		{"ErrValueTooLong", audittrail.EVALUETOOLONG, "new_value", func(r *ingest.RecordInput) {
			r.NewValue, _ = json.Marshal(strings.Repeat("x", 64<<10+1))
		}},
		{"ErrIDTooLong", audittrail.EVALUETOOLONG, "id", func(r *ingest.RecordInput) { r.ID = strings.Repeat("k", 129) }},
		{"ErrActionType", audittrail.EVALIDATION, "action_type", func(r *ingest.RecordInput) { r.ActionType = "update" }},
		{"ErrAddWithOldValue", audittrail.EVALIDATION, "old_value", func(r *ingest.RecordInput) { r.ActionType = "add" }},
		{"ErrDateInFuture", audittrail.EDATEINFUTURE, "date", func(r *ingest.RecordInput) { r.Date = audittrail.FormatTime(now.Add(6 * time.Minute)) }},
		{"ErrDateInvalid", audittrail.EVALIDATION, "date", func(r *ingest.RecordInput) { r.Date = "yesterday" }},
		{"ErrBeforeEnabled", audittrail.EBEFOREENABLED, "date", func(r *ingest.RecordInput) { r.Date = audittrail.FormatTime(enabledAt.Add(-time.Second)) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := in.PrepareRecords(enabled(), []ingest.RecordInput{record(nil), record(tt.mod)}, "p")
			e, ok := err.(*audittrail.Error)
			if !ok || e.Code != tt.code {
				t.Fatalf("got %v, want code %s", err, tt.code)
			}
			if len(e.Details) != 1 || e.Details[0].Index != 1 || e.Details[0].Field != tt.field {
				t.Fatalf("got details %+v, want one for item 1 field %s", e.Details, tt.field)
			}
		})
	}
	t.Run("FutureWithinSkew", func(t *testing.T) {
		if _, err := in.PrepareRecords(enabled(), []ingest.RecordInput{record(func(r *ingest.RecordInput) { r.Date = audittrail.FormatTime(now.Add(4 * time.Minute)) })}, "p"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrManyProblems", func(t *testing.T) {
		_, err := in.PrepareRecords(enabled(), []ingest.RecordInput{
			record(func(r *ingest.RecordInput) { r.ObjectType = "widgets" }), record(nil),
			record(func(r *ingest.RecordInput) { r.Date = audittrail.FormatTime(now.Add(time.Hour)) }),
		}, "p")
		e := err.(*audittrail.Error)
		if e.Code != audittrail.EVALIDATION || len(e.Details) != 2 || e.Details[0].Index != 0 || e.Details[1].Index != 2 {
			t.Fatalf("got %s %+v", e.Code, e.Details)
		}
	})
	t.Run("ErrBatchSize", func(t *testing.T) {
		if _, err := in.PrepareRecords(enabled(), nil, "p"); audittrail.ErrorCode(err) != audittrail.EVALIDATION {
			t.Errorf("empty: got %v", err)
		}
		big := make([]ingest.RecordInput, ingest.MaxBatch+1)
		if _, err := in.PrepareRecords(enabled(), big, "p"); audittrail.ErrorCode(err) != audittrail.EBATCHTOOLARGE {
			t.Errorf("1001: got %v", err)
		}
	})
	t.Run("Fingerprint", func(t *testing.T) {
		a, _ := in.PrepareRecords(enabled(), []ingest.RecordInput{record(func(r *ingest.RecordInput) { r.ID = "k1" })}, "p")
		b, _ := in.PrepareRecords(enabled(), []ingest.RecordInput{record(func(r *ingest.RecordInput) { r.ID = "k1" })}, "p")
		c, _ := in.PrepareRecords(enabled(), []ingest.RecordInput{record(func(r *ingest.RecordInput) { r.ID = "k1"; r.ObjectName = "Sales" })}, "p")
		if a[0].IdempotencyKey != "records:k1" || a[0].Fingerprint != b[0].Fingerprint || a[0].Fingerprint == c[0].Fingerprint {
			t.Fatalf("got %q %q %q", a[0].Fingerprint, b[0].Fingerprint, c[0].Fingerprint)
		}
	})
}

func change(before, after string) ingest.ChangeInput {
	c := ingest.ChangeInput{ObjectType: "users", ObjectID: "7", ObjectName: "Bob", Originator: &audittrail.Originator{Name: "Ada"}}
	if before != "" {
		c.Before = json.RawMessage(before)
	}
	if after != "" {
		c.After = json.RawMessage(after)
	}
	return c
}

func TestPrepareChanges(t *testing.T) {
	in := MustIngester(t)
	t.Run("Edit", func(t *testing.T) {
		entries, err := in.PrepareChanges(enabled(), []ingest.ChangeInput{
			change(`{"email":"a@x","password":"p1","skills":["b","a"]}`, `{"email":"b@x","password":"p2","skills":["a","b"]}`),
		}, "p")
		if err != nil {
			t.Fatal(err)
		}
		recs := entries[0].Records
		if len(recs) != 2 || recs[0].Element != "Email" || recs[1].Element != "Password" || recs[1].OldValue != audittrail.Redacted || recs[0].ChangeID != recs[1].ChangeID || recs[0].ActionType != "edit" {
			t.Fatalf("got %+v %+v", recs[0], recs[len(recs)-1])
		}
	})
	t.Run("Unchanged", func(t *testing.T) {
		entries, err := in.PrepareChanges(enabled(), []ingest.ChangeInput{change(`{"a":1}`, `{"a":1}`)}, "p")
		if err != nil || len(entries) != 1 || len(entries[0].Records) != 0 {
			t.Fatalf("got %v %v", entries, err)
		}
	})
	t.Run("ErrBothNull", func(t *testing.T) {
		_, err := in.PrepareChanges(enabled(), []ingest.ChangeInput{change("null", "")}, "p")
		if audittrail.ErrorCode(err) != audittrail.EVALIDATION {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ErrNotObject", func(t *testing.T) {
		_, err := in.PrepareChanges(enabled(), []ingest.ChangeInput{change(`[1]`, `{"a":1}`)}, "p")
		if audittrail.ErrorCode(err) != audittrail.EVALIDATION {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ErrValueTooLong", func(t *testing.T) {
		big, _ := json.Marshal(map[string]string{"name": strings.Repeat("x", 70000)})
		_, err := in.PrepareChanges(enabled(), []ingest.ChangeInput{change("", string(big))}, "p")
		if audittrail.ErrorCode(err) != audittrail.EVALUETOOLONG {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("FingerprintIgnoresKeyOrder", func(t *testing.T) {
		a := change(`{"a":1,"b":2}`, `{"a":1,"b":3}`)
		b := change(`{"b":2,"a":1}`, `{"b":3,"a":1}`)
		a.ID, b.ID = "c1", "c1"
		ea, _ := in.PrepareChanges(enabled(), []ingest.ChangeInput{a}, "p")
		eb, _ := in.PrepareChanges(enabled(), []ingest.ChangeInput{b}, "p")
		if ea[0].Fingerprint != eb[0].Fingerprint || ea[0].IdempotencyKey != "changes:c1" {
			t.Fatalf("got %q %q", ea[0].Fingerprint, eb[0].Fingerprint)
		}
	})
}
