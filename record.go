package audittrail

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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
// UnmarshalJSON reads it; AppendJSON writes the same form by hand, and a
// test holds the two to the same bytes.
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
func (r *Record) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// AppendJSON appends the record's API JSON to b: the fields and formats of
// recordJSON, in its order, byte for byte what encoding/json writes for it
// with SetEscapeHTML(false) (no trailing newline). Pages and exports write
// records through it, without reflection and without a value per record.
func (r *Record) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, r.ID)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, r.Seq, 10)
	b = append(b, `,"object_type":`...)
	b = appendJSONString(b, r.ObjectType)
	b = append(b, `,"object_id":`...)
	b = appendJSONString(b, r.ObjectID)
	b = append(b, `,"object_name":`...)
	b = appendJSONString(b, r.ObjectName)
	b = append(b, `,"action_type":`...)
	b = appendJSONString(b, r.ActionType)
	b = append(b, `,"element":`...)
	b = appendJSONString(b, r.Element)
	b = append(b, `,"old_value":`...)
	b = appendJSONString(b, r.OldValue)
	b = append(b, `,"new_value":`...)
	b = appendJSONString(b, r.NewValue)
	b = append(b, `,"date":"`...)
	b = appendTime(b, r.Date)
	b = append(b, `","originator":`...)
	b = r.Originator.appendJSON(b)
	b = append(b, `,"automatic":`...)
	b = strconv.AppendBool(b, r.Automatic)
	b = append(b, `,"change_id":`...)
	b = appendJSONString(b, r.ChangeID)
	b = append(b, `,"received_at":"`...)
	b = appendTime(b, r.ReceivedAt)
	b = append(b, `","source":`...)
	b = appendJSONString(b, r.Source)
	return append(b, '}')
}

// appendJSON appends the originator's JSON as encoding/json writes it: the
// fields in their order, the omitempty ones only when set.
func (o *Originator) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, o.ID)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, o.Name)
	if o.LoginName != "" {
		b = append(b, `,"login_name":`...)
		b = appendJSONString(b, o.LoginName)
	}
	if o.EmployeeID != "" {
		b = append(b, `,"employee_id":`...)
		b = appendJSONString(b, o.EmployeeID)
	}
	if len(o.Profiles) > 0 {
		b = append(b, `,"profiles":[`...)
		for i, p := range o.Profiles {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, p)
		}
		b = append(b, ']')
	}
	if o.UserAgent != "" {
		b = append(b, `,"user_agent":`...)
		b = appendJSONString(b, o.UserAgent)
	}
	if o.AuthType != "" {
		b = append(b, `,"auth_type":`...)
		b = appendJSONString(b, o.AuthType)
	}
	if o.IsLPA {
		b = append(b, `,"is_lpa":true`...)
	}
	return append(b, '}')
}

// jsonSafe tells the bytes that appendJSONString copies as they are: ASCII
// from the space on, but for the quote and the backslash.
var jsonSafe = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString appends s as a JSON string exactly as encoding/json
// writes it with SetEscapeHTML(false): quotes, backslashes and control
// characters escaped (\b, \f, \n, \r, \t or \u00XX), invalid UTF-8 as
// \ufffd, U+2028 and U+2029 as \u2028 and \u2029, the rest as it is.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if jsonSafe[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
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

// appendTime appends t formatted as FormatTime formats it, digit by digit
// for the years 0 to 9999 and by time.Time.AppendFormat for the others.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, TimeFormat)
	}
	hour, minute, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	return append(b,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+month/10), byte('0'+month%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

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
	// Originators selects records whose originator id or name is any of
	// these (LiveEngage's users argument); with Originator, both apply.
	Originators []string
	// ExcludeLPA leaves out the changes made by LivePerson agents
	// (Originator.IsLPA); ExcludeAutomatic, the automatic ones.
	ExcludeLPA       bool
	ExcludeAutomatic bool
	Query            string // case-insensitive substring (see SearchText)
	Limit            int
	After            *Cursor // position after which the page starts (newest first)
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

// NewRecordID returns a new record id: like NewID("rec_"), 15 bytes in
// base32, but its first 6 bytes are the time in microseconds (the low 48
// bits) and the other 9 random. Ids made in order sort in about that order,
// so that each insert lands near the end of the index on (account_id, id)
// rather than on a random page of it: a random id would dirty one more page
// per record, which every commit would write and sync.
func NewRecordID() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMicro())<<16)
	rand.Read(b[6:])
	return "rec_" + strings.ToLower(base32.StdEncoding.EncodeToString(b[:15]))
}
