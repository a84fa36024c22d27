package audittrail

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"strings"
	"time"
)

// Action types of a record.
const (
	ActionAdd    = "add"
	ActionEdit   = "edit"
	ActionDelete = "delete"
)

// ActionLabel returns the label that people see for an action type:
// "Add new", "Edit", "Delete".
func ActionLabel(action string) string {
	switch action {
	case ActionAdd:
		return "Add new"
	case ActionEdit:
		return "Edit"
	case ActionDelete:
		return "Delete"
	}
	return action
}

// SourceService is the source of the records that the service writes about
// changes made through itself.
const SourceService = "audittrail"

// Redacted replaces the value of a sensitive element before anything is written.
const Redacted = "********"

// Record is one changed element of one object of one account (SPEC §2).
// Its JSON form is the API's; without ID and ReceivedAt it is also what the
// integrity log hashes, so a field added here changes every leaf hash.
type Record struct {
	AccountID  string     `json:"-"`
	ID         string     `json:"id"`
	Seq        int64      `json:"seq"`
	ObjectType string     `json:"object_type"`
	ObjectID   string     `json:"object_id"`
	ObjectName string     `json:"object_name"`
	ActionType string     `json:"action_type"`
	Element    string     `json:"element"`
	OldValue   string     `json:"old_value"`
	NewValue   string     `json:"new_value"`
	Date       time.Time  `json:"-"`
	Originator Originator `json:"originator"`
	Automatic  bool       `json:"automatic"`
	ChangeID   string     `json:"change_id"`
	ReceivedAt time.Time  `json:"-"`
	Source     string     `json:"source"`
}

// Originator is who made a change.
type Originator struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	LoginName  string   `json:"login_name,omitempty"`
	EmployeeID string   `json:"employee_id,omitempty"`
	Profiles   []string `json:"profiles,omitempty"`
	UserAgent  string   `json:"user_agent,omitempty"`
	AuthType   string   `json:"auth_type,omitempty"`
	IsLPA      bool     `json:"is_lpa,omitempty"`
}

// recordJSON is the API form of a record, fields in the contract's order.
type recordJSON struct {
	ID         string     `json:"id"`
	Seq        int64      `json:"seq"`
	ObjectType string     `json:"object_type"`
	ObjectID   string     `json:"object_id"`
	ObjectName string     `json:"object_name"`
	ActionType string     `json:"action_type"`
	Element    string     `json:"element"`
	OldValue   string     `json:"old_value"`
	NewValue   string     `json:"new_value"`
	Date       string     `json:"date"`
	Originator Originator `json:"originator"`
	Automatic  bool       `json:"automatic"`
	ChangeID   string     `json:"change_id"`
	ReceivedAt string     `json:"received_at"`
	Source     string     `json:"source"`
}

// MarshalJSON writes the record with its dates as RFC 3339 UTC with
// milliseconds, the one time format of the API.
func (r *Record) MarshalJSON() ([]byte, error) { return json.Marshal(r.view()) }

// JSONValue returns the record as a plain value that encoding/json writes
// in the API's form, the same JSON as MarshalJSON. Encoding the value
// rather than calling the Marshaler spares encoding/json from re-scanning
// every record's output, which counts in pages and exports.
func (r *Record) JSONValue() any { return r.view() }

func (r *Record) view() recordJSON {
	return recordJSON{r.ID, r.Seq, r.ObjectType, r.ObjectID, r.ObjectName, r.ActionType, r.Element,
		r.OldValue, r.NewValue, FormatTime(r.Date), r.Originator, r.Automatic, r.ChangeID, FormatTime(r.ReceivedAt), r.Source}
}

// UnmarshalJSON reads the form that MarshalJSON writes.
func (r *Record) UnmarshalJSON(b []byte) error {
	var v recordJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	date, err := time.Parse(time.RFC3339Nano, v.Date)
	if err != nil {
		return err
	}
	var received time.Time
	if v.ReceivedAt != "" {
		if received, err = time.Parse(time.RFC3339Nano, v.ReceivedAt); err != nil {
			return err
		}
	}
	*r = Record{AccountID: r.AccountID, ID: v.ID, Seq: v.Seq, ObjectType: v.ObjectType, ObjectID: v.ObjectID,
		ObjectName: v.ObjectName, ActionType: v.ActionType, Element: v.Element, OldValue: v.OldValue, NewValue: v.NewValue,
		Date: date.UTC(), Originator: v.Originator, Automatic: v.Automatic, ChangeID: v.ChangeID, ReceivedAt: received.UTC(), Source: v.Source}
	return nil
}

// TimeFormat is RFC 3339 in UTC with milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// FormatTime formats t in TimeFormat.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// TruncateTime cuts t to the millisecond precision that records keep.
func TruncateTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// NewID returns a new random, opaque, URL-safe identifier with a prefix
// that tells its kind ("rec_", "chg_", "usr_", ...).
func NewID(prefix string) string {
	var b [15]byte
	rand.Read(b[:])
	return prefix + strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
}

// Entry is one item of an append: the records of one change (or the one
// record of a record item) and the client's idempotency key, if it gave one.
// Fingerprint identifies the content the client sent, so a retry with the
// same key and other content is told apart from an honest retry.
type Entry struct {
	IdempotencyKey string
	Fingerprint    string
	Records        []*Record
}

// RecordFilter selects records of one account. Zero values mean "no
// condition", except AccountID, which every query needs.
type RecordFilter struct {
	AccountID   string
	From, To    *time.Time // both inclusive
	ObjectTypes []string
	ActionTypes []string
	Element     string
	ObjectName  string
	ObjectID    string
	Originator  string // originator id or name
	Query       string // case-insensitive substring (see SearchText)
	Limit       int
	After       *Cursor // position after which the page starts (newest first)
}

// Limits of a listing.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// SearchText is the text that the q filter searches: object name, element,
// old and new value and originator name, lowercased, one per line. Stores
// keep it beside the record so that a case-insensitive search needs no
// per-row folding; the search term is folded with SearchFold.
func SearchText(r *Record) string {
	return SearchFold(strings.Join([]string{r.ObjectName, r.Element, r.OldValue, r.NewValue, r.Originator.Name}, "\n"))
}

// SearchFold lowercases s the way SearchText does.
func SearchFold(s string) string { return strings.ToLower(s) }
