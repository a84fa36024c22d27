package audittrail

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// The actions of the access log (SPEC §11): what a read of the trail did.
const (
	AccessList       = "list"
	AccessCount      = "count"
	AccessGet        = "get"
	AccessExport     = "export"
	AccessProof      = "proof"
	AccessCheckpoint = "checkpoint"
	AccessLEQuery    = "le_query"
	AccessLEExport   = "le_export"
)

// AccessActions lists the actions of the access log.
var AccessActions = []string{AccessList, AccessCount, AccessGet, AccessExport, AccessProof, AccessCheckpoint, AccessLEQuery, AccessLEExport}

// The kinds of actor of the access log.
const (
	ActorUser         = "user"
	ActorAppKey       = "app_key"
	ActorOperator     = "operator"
	ActorCLI          = "cli"
	ActorPublisherKey = "publisher_key"
)

// AccessEntry is one read of an account's trail, as the access log keeps
// it (SPEC §11): who read, what, with which filters, how many records the
// answer held and its status. Entries are appended, never changed; the
// retention purge removes them with the records.
type AccessEntry struct {
	ID        string            `json:"id"`
	AccountID string            `json:"-"`
	At        time.Time         `json:"at"`
	Actor     AccessActor       `json:"actor"`
	Action    string            `json:"action"`
	Format    string            `json:"format"`
	Filters   map[string]string `json:"filters"`
	Records   int               `json:"records"`
	Status    int               `json:"status"`
	IP        string            `json:"ip"`
	UserAgent string            `json:"user_agent"`
}

// MarshalJSON writes the entry with its time as every time of the API is
// written: RFC 3339 UTC with milliseconds.
func (e *AccessEntry) MarshalJSON() ([]byte, error) {
	type entry AccessEntry
	return json.Marshal(struct {
		*entry
		At string `json:"at"`
	}{(*entry)(e), FormatTime(e.At)})
}

// AccessActor is who made a read.
type AccessActor struct {
	Kind      string `json:"kind"`
	ID        string `json:"id"`
	LoginName string `json:"login_name"`
	Name      string `json:"name"`
}

// NewAccessID returns a new access entry id: time-ordered, then random.
func NewAccessID() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMicro())<<16)
	rand.Read(b[6:])
	return "acc_" + strings.ToLower(base32.StdEncoding.EncodeToString(b[:15]))
}

// AccessFilter selects entries of an account's access log, newest first by
// (at, id), starting after After.
type AccessFilter struct {
	AccountID string
	From, To  *time.Time
	// Actor matches, case-insensitively, the actor's id or login name
	// exactly, or any part of its name.
	Actor string
	// Actions, when not empty, are the actions selected.
	Actions []string
	Limit   int
	After   *AccessCursor
}

// AccessCursor is a position in the newest-first order of an access log:
// the (at, id) of the last entry of a page.
type AccessCursor struct {
	At time.Time
	ID string
}

// AccessCursorOf returns the cursor that points just after e.
func AccessCursorOf(e *AccessEntry) *AccessCursor { return &AccessCursor{At: e.At, ID: e.ID} }

// String encodes the cursor as an opaque token.
func (c *AccessCursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte("a1." + strconv.FormatInt(c.At.UnixMilli(), 10) + "." + c.ID))
}

// ParseAccessCursor decodes a token made by AccessCursor.String.
func ParseAccessCursor(s string) (*AccessCursor, error) {
	bad := Errorf(EINVALIDPARAMETER, "cursor is not valid: use the next_cursor of a previous page")
	if len(s) > 128 {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	parts := strings.SplitN(string(b), ".", 3)
	if len(parts) != 3 || parts[0] != "a1" || !strings.HasPrefix(parts[2], "acc_") {
		return nil, bad
	}
	ms, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || ms < -62135596800000 || ms > 253402300799999 {
		return nil, bad
	}
	c := &AccessCursor{At: time.UnixMilli(ms).UTC(), ID: parts[2]}
	if c.String() != s {
		return nil, bad
	}
	return c, nil
}
