package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/audittrail/audittrail"
)

// Limits of one request (SPEC §6).
const (
	MaxBatch = 1000
	// MaxRecords bounds the records one request stores (SPEC §6): a
	// batch of changes whose records would pass it is refused whole.
	MaxRecords      = 10_000
	MaxValueBytes   = 64 << 10
	MaxNameChars    = 512
	MaxIDChars      = 128
	MaxProfiles     = 64
	MaxFutureSkewMs = 5 * 60 * 1000
)

// RecordInput is one item of POST .../records.
type RecordInput struct {
	ID         string                 `json:"id"`
	ObjectType string                 `json:"object_type"`
	ObjectID   Scalar                 `json:"object_id"`
	ObjectName string                 `json:"object_name"`
	ActionType string                 `json:"action_type"`
	Element    string                 `json:"element"`
	OldValue   json.RawMessage        `json:"old_value"`
	NewValue   json.RawMessage        `json:"new_value"`
	Date       string                 `json:"date"`
	Originator *audittrail.Originator `json:"originator"`
	Automatic  bool                   `json:"automatic"`
}

// ChangeInput is one item of POST .../changes.
type ChangeInput struct {
	ID         string                 `json:"id"`
	ObjectType string                 `json:"object_type"`
	ObjectID   Scalar                 `json:"object_id"`
	ObjectName string                 `json:"object_name"`
	Before     json.RawMessage        `json:"before"`
	After      json.RawMessage        `json:"after"`
	Date       string                 `json:"date"`
	Originator *audittrail.Originator `json:"originator"`
	Automatic  bool                   `json:"automatic"`
}

// Scalar is an identifier that platforms send as a string or a number; it
// is kept as text.
type Scalar string

// UnmarshalJSON accepts a string, a number, or null.
func (s *Scalar) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = Scalar(v)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*s = Scalar(n.String())
	default:
		return fmt.Errorf("must be a string or a number")
	}
	return nil
}

// decodeValue decodes a JSON value keeping numbers as written.
func decodeValue(raw json.RawMessage) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	// Most values are plain strings: a string without escapes is its bytes
	// between the quotes, with no second pass of the decoder.
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' && bytes.IndexByte(raw[1:n-1], '\\') < 0 &&
		bytes.IndexByte(raw[1:n-1], '"') < 0 && utf8.Valid(raw) && !hasControl(raw) {
		return string(raw[1 : n-1]), nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// hasControl reports whether b holds a control character, which JSON
// allows in a string only escaped.
func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// decodeObject decodes a snapshot: a JSON object, or null / absent (nil).
func decodeObject(raw json.RawMessage) (map[string]any, bool, error) {
	v, err := decodeValue(raw)
	if err != nil {
		return nil, false, err
	}
	if v == nil {
		return nil, true, nil
	}
	m, ok := v.(map[string]any)
	return m, ok, nil
}
