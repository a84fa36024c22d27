package audittrail

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cursor is a position in the newest-first order of an account's records:
// the (date, seq) of the last record of a page. The next page starts with the
// records strictly older in that order, so paging never repeats or skips a
// record, even while new ones arrive.
type Cursor struct {
	Date time.Time
	Seq  int64
}

// CursorOf returns the cursor that points just after r.
func CursorOf(r *Record) *Cursor { return &Cursor{Date: r.Date, Seq: r.Seq} }

// String encodes the cursor as an opaque token.
func (c *Cursor) String() string {
	s := "v1." + strconv.FormatInt(c.Date.UnixMilli(), 10) + "." + strconv.FormatInt(c.Seq, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// ParseCursor decodes a token made by Cursor.String.
func ParseCursor(s string) (*Cursor, error) {
	bad := Errorf(EINVALIDPARAMETER, "cursor is not valid: use the next_cursor of a previous page")
	if len(s) > 64 {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	parts := strings.Split(string(b), ".")
	if len(parts) != 3 || parts[0] != "v1" {
		return nil, bad
	}
	ms, err1 := strconv.ParseInt(parts[1], 10, 64)
	seq, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || seq < 0 || ms < -62135596800000 || ms > 253402300799999 {
		return nil, bad
	}
	c := &Cursor{Date: time.UnixMilli(ms).UTC(), Seq: seq}
	if c.String() != s {
		return nil, bad // another spelling of the position ("+5", "05"): not a token the service made
	}
	return c, nil
}

// GoString helps test failure messages.
func (c *Cursor) GoString() string { return fmt.Sprintf("Cursor{%s, %d}", FormatTime(c.Date), c.Seq) }
