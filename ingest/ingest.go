package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/diff"
)

// Ingester prepares batches for a store. It is safe for concurrent use.
type Ingester struct {
	Catalog *audittrail.Catalog
	now     func() time.Time
}

// New returns an Ingester over the catalog with the clock now.
func New(c *audittrail.Catalog, now func() time.Time) *Ingester {
	return &Ingester{Catalog: c, now: now}
}

// batch collects the entries and the problems of one request.
type batch struct {
	in      *Ingester
	acct    *audittrail.Account
	now     time.Time
	source  string
	entries []audittrail.Entry
	details []audittrail.ErrorDetail
	records int // the records the changes work out to, so far
}

func (b *batch) fail(i int, field, code, format string, args ...any) {
	b.details = append(b.details, audittrail.ErrorDetail{Index: i, Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// PrepareRecords validates the items of POST .../records and returns one
// entry per item, in order, redacted. Returns EAUDITTRAILDISABLED, or a
// validation error (see audittrail.ValidationError) listing every problem.
func (in *Ingester) PrepareRecords(acct *audittrail.Account, items []RecordInput, source string) ([]audittrail.Entry, error) {
	b, err := in.begin(acct, len(items), source)
	if err != nil {
		return nil, err
	}
	for i, it := range items {
		b.record(i, it)
	}
	return b.finish()
}

// PrepareChanges validates the items of POST .../changes, works out their
// records with the diff engine, and returns one entry per change, in order
// (an edit without difference gives an entry without records).
func (in *Ingester) PrepareChanges(acct *audittrail.Account, items []ChangeInput, source string) ([]audittrail.Entry, error) {
	b, err := in.begin(acct, len(items), source)
	if err != nil {
		return nil, err
	}
	for i, it := range items {
		b.change(i, it)
	}
	if b.records > MaxRecords {
		return nil, audittrail.Errorf(audittrail.EBATCHTOOLARGE,
			"the changes of this batch work out to %d records; one request stores at most %d: send the changes in smaller batches", b.records, MaxRecords)
	}
	return b.finish()
}

func (in *Ingester) begin(acct *audittrail.Account, n int, source string) (*batch, error) {
	if !acct.AuditTrailEnabled {
		return nil, audittrail.CheckAppend(acct, nil)
	}
	if n == 0 {
		return nil, audittrail.Errorf(audittrail.EVALIDATION, "the batch is empty: send 1 to %d items", MaxBatch)
	}
	if n > MaxBatch {
		return nil, audittrail.Errorf(audittrail.EBATCHTOOLARGE, "the batch has %d items; send at most %d per request", n, MaxBatch)
	}
	return &batch{in: in, acct: acct, now: audittrail.TruncateTime(in.now()), source: source, entries: make([]audittrail.Entry, n)}, nil
}

func (b *batch) finish() ([]audittrail.Entry, error) {
	if len(b.details) == 0 {
		if err := audittrail.CheckAppend(b.acct, b.entries); err != nil {
			return nil, err
		}
		return b.entries, nil
	}
	// Report enablement problems beside the others, in item order.
	if err := audittrail.CheckAppend(b.acct, b.entries); err != nil {
		if e, ok := err.(*audittrail.Error); ok {
			b.details = append(b.details, e.Details...)
		}
	}
	sort.SliceStable(b.details, func(i, j int) bool { return b.details[i].Index < b.details[j].Index })
	return nil, audittrail.ValidationError(b.details)
}

// common checks the fields that records and changes share and returns the
// date and the object type.
func (b *batch) common(i int, id, objectType, objectID, objectName, date string, o *audittrail.Originator) (time.Time, *audittrail.ObjectType) {
	if utf8.RuneCountInString(id) > MaxIDChars {
		b.fail(i, "id", audittrail.EVALUETOOLONG, "id is longer than %d characters", MaxIDChars)
	}
	var t *audittrail.ObjectType
	if objectType == "" {
		b.fail(i, "object_type", audittrail.EVALIDATION, "object_type is required")
	} else if audittrail.IsServiceType(objectType) {
		b.fail(i, "object_type", audittrail.ERESERVEDOBJECTTYPE, "object_type %q is written only by the service itself, about changes made through it", clip(objectType))
	} else if err := b.in.Catalog.CheckType(objectType); err != nil {
		b.fail(i, "object_type", audittrail.EUNKNOWNOBJECTTYPE, "%s", audittrail.ErrorMessage(err))
	} else {
		t, _ = b.in.Catalog.Type(objectType)
	}
	b.name(i, "object_id", objectID, false)
	b.name(i, "object_name", objectName, true)
	if o == nil {
		b.fail(i, "originator", audittrail.EVALIDATION, "originator is required, with at least a name")
	} else {
		b.name(i, "originator.name", o.Name, true)
		for f, v := range map[string]string{"originator.id": o.ID, "originator.login_name": o.LoginName, "originator.employee_id": o.EmployeeID, "originator.user_agent": o.UserAgent, "originator.auth_type": o.AuthType} {
			b.name(i, f, v, false)
		}
		if strings.EqualFold(strings.TrimSpace(o.AuthType), audittrail.AuthTypeService) {
			b.fail(i, "originator.auth_type", audittrail.EVALIDATION, "originator.auth_type %q is the service's own, for the changes made through it", audittrail.AuthTypeService)
		}
		if len(o.Profiles) > MaxProfiles {
			b.fail(i, "originator.profiles", audittrail.EVALUETOOLONG, "originator.profiles lists more than %d profiles", MaxProfiles)
		}
		for _, p := range o.Profiles {
			b.name(i, "originator.profiles", p, false)
		}
	}
	d := b.now
	if date != "" {
		parsed, err := time.Parse(time.RFC3339Nano, date)
		if err != nil {
			b.fail(i, "date", audittrail.EVALIDATION, "date %q is not an RFC 3339 time such as 2026-01-31T09:30:00Z", clip(date))
		} else {
			d = audittrail.TruncateTime(parsed)
			if d.Sub(b.now) > MaxFutureSkewMs*time.Millisecond {
				b.fail(i, "date", audittrail.EDATEINFUTURE, "date %s is more than 5 minutes after the server's clock (%s)", audittrail.FormatTime(d), audittrail.FormatTime(b.now))
			}
		}
	}
	return d, t
}

// name checks a short text field: required or not, at most MaxNameChars.
func (b *batch) name(i int, field, v string, required bool) {
	if required && v == "" {
		b.fail(i, field, audittrail.EVALIDATION, "%s is required", field)
	} else if utf8.RuneCountInString(v) > MaxNameChars {
		b.fail(i, field, audittrail.EVALUETOOLONG, "%s is longer than %d characters", field, MaxNameChars)
	}
}

func (b *batch) value(i int, field, v string) {
	if len(v) > MaxValueBytes {
		b.fail(i, field, audittrail.EVALUETOOLONG, "%s is %d bytes; values are limited to %d bytes (64 KiB)", field, len(v), MaxValueBytes)
	}
}

func (b *batch) record(i int, it RecordInput) {
	date, t := b.common(i, it.ID, it.ObjectType, string(it.ObjectID), it.ObjectName, it.Date, it.Originator)
	r := b.newRecord(it.ObjectType, string(it.ObjectID), it.ObjectName, date, it.Originator, it.Automatic)
	r.ChangeID = audittrail.NewID("chg_")
	r.ActionType = it.ActionType
	if !slices.Contains([]string{audittrail.ActionAdd, audittrail.ActionEdit, audittrail.ActionDelete}, it.ActionType) {
		b.fail(i, "action_type", audittrail.EVALIDATION, "action_type must be add, edit or delete")
	}
	b.name(i, "element", it.Element, true)
	oldV, err1 := decodeValue(it.OldValue)
	newV, err2 := decodeValue(it.NewValue)
	if err1 != nil || err2 != nil {
		b.fail(i, "old_value", audittrail.EVALIDATION, "old_value and new_value must be JSON values")
	}
	r.OldValue, r.NewValue = diff.RenderElement(it.Element, oldV), diff.RenderElement(it.Element, newV)
	if it.ActionType == audittrail.ActionAdd && r.OldValue != "" {
		b.fail(i, "old_value", audittrail.EVALIDATION, "old_value must be empty for an add")
	}
	if it.ActionType == audittrail.ActionDelete && r.NewValue != "" {
		b.fail(i, "new_value", audittrail.EVALIDATION, "new_value must be empty for a delete")
	}
	b.value(i, "old_value", r.OldValue)
	b.value(i, "new_value", r.NewValue)
	r.Element = it.Element
	if t != nil {
		label, sensitive := t.Describe(it.Element)
		if _, ok := t.Element(it.Element); ok || looksLikeKey(it.Element) {
			r.Element = label
		}
		if sensitive {
			r.OldValue, r.NewValue = redact(r.OldValue), redact(r.NewValue)
		}
	}
	b.entries[i] = audittrail.Entry{Records: []*audittrail.Record{r}}
	if it.ID != "" {
		b.entries[i].IdempotencyKey = "records:" + it.ID
		b.entries[i].Fingerprint = fingerprint(it.Date, b.entries[i].Records)
	}
}

// looksLikeKey tells an element key ("auto_accept_chats", "email") from a
// label that a platform already made ("Member of", "LoBs").
func looksLikeKey(s string) bool {
	return s != "" && !strings.ContainsRune(s, ' ') && (strings.ContainsAny(s, "_.") || s == strings.ToLower(s))
}

func (b *batch) change(i int, it ChangeInput) {
	date, t := b.common(i, it.ID, it.ObjectType, string(it.ObjectID), it.ObjectName, it.Date, it.Originator)
	before, ok1, err1 := decodeObject(it.Before)
	after, ok2, err2 := decodeObject(it.After)
	switch {
	case err1 != nil || !ok1:
		b.fail(i, "before", audittrail.EVALIDATION, "before must be an object or null")
		return
	case err2 != nil || !ok2:
		b.fail(i, "after", audittrail.EVALIDATION, "after must be an object or null")
		return
	case before == nil && after == nil:
		b.fail(i, "after", audittrail.EVALIDATION, "before and after are both null: send after for an add, before for a delete, both for an edit")
		return
	case t == nil:
		return
	}
	changes, err := diff.Compute(t, before, after)
	if err != nil {
		b.fail(i, "after", audittrail.ErrorCode(err), "%s", audittrail.ErrorMessage(err))
		return
	}
	if b.records += len(changes); b.records > MaxRecords {
		return // refused whole (PrepareChanges): only the count goes on
	}
	changeID := audittrail.NewID("chg_")
	entry := audittrail.Entry{Records: make([]*audittrail.Record, 0, len(changes))}
	for _, c := range changes {
		r := b.newRecord(it.ObjectType, string(it.ObjectID), it.ObjectName, date, it.Originator, it.Automatic)
		r.ChangeID, r.ActionType, r.Element, r.OldValue, r.NewValue = changeID, c.Action, c.Label, c.Old, c.New
		b.name(i, "element "+clip(c.Key), c.Label, true)
		b.value(i, "before."+clip(c.Key), c.Old)
		b.value(i, "after."+clip(c.Key), c.New)
		entry.Records = append(entry.Records, r)
	}
	if it.ID != "" {
		entry.IdempotencyKey = "changes:" + it.ID
		entry.Fingerprint = fingerprint(it.Date, entry.Records)
		if len(entry.Records) == 0 {
			entry.Fingerprint = fingerprint(it.Date, []*audittrail.Record{b.newRecord(it.ObjectType, string(it.ObjectID), it.ObjectName, date, it.Originator, it.Automatic)})
		}
	}
	b.entries[i] = entry
}

func (b *batch) newRecord(objectType, objectID, objectName string, date time.Time, o *audittrail.Originator, automatic bool) *audittrail.Record {
	r := &audittrail.Record{AccountID: b.acct.ID, ObjectType: objectType, ObjectID: objectID, ObjectName: objectName,
		Date: date, Automatic: automatic, Source: b.source}
	if o != nil {
		r.Originator = *o
		if r.Originator.Profiles != nil {
			r.Originator.Profiles = slices.Clone(o.Profiles)
		}
	}
	return r
}

func redact(v string) string {
	if v == "" {
		return ""
	}
	return audittrail.Redacted
}

// fingerprint identifies the content of an item for its idempotency key:
// the date as the client gave it (a retry that left it out must match, though
// "now" has moved) and the records it makes, which are already redacted, so
// that the stored fingerprint reveals nothing of a secret.
func fingerprint(date string, recs []*audittrail.Record) string {
	type content struct {
		ObjectType, ObjectID, ObjectName, ActionType, Element, OldValue, NewValue string
		Originator                                                                audittrail.Originator
		Automatic                                                                 bool
	}
	v := struct {
		Date    string
		Records []content
	}{Date: date}
	for _, r := range recs {
		v.Records = append(v.Records, content{r.ObjectType, r.ObjectID, r.ObjectName, r.ActionType, r.Element, r.OldValue, r.NewValue, r.Originator, r.Automatic})
	}
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// ServiceChange works out the entry that records a change made through the
// service itself (users, profiles, publisher keys, settings) from the
// object's snapshots before and after (nil for an add or a delete), with
// the same diff engine as a platform's changes. Its records have source
// "audittrail"; the store dates them when it applies the change.
func (in *Ingester) ServiceChange(accountID, objectType, objectID, objectName string, before, after map[string]any, o audittrail.Originator) ([]audittrail.Entry, error) {
	t, ok := in.Catalog.Type(objectType)
	if !ok {
		return nil, fmt.Errorf("self-audit: object type %q is not in the catalog", objectType)
	}
	changes, err := diff.Compute(t, before, after)
	if err != nil {
		return nil, err
	}
	changeID := audittrail.NewID("chg_")
	now := audittrail.TruncateTime(in.now())
	recs := make([]*audittrail.Record, 0, len(changes))
	for _, c := range changes {
		recs = append(recs, &audittrail.Record{AccountID: accountID, ObjectType: objectType, ObjectID: objectID, ObjectName: objectName,
			ActionType: c.Action, Element: c.Label, OldValue: c.Old, NewValue: c.New, Date: now, Originator: o,
			ChangeID: changeID, Source: audittrail.SourceService})
	}
	return []audittrail.Entry{{Records: recs}}, nil
}
