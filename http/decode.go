package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/audittrail/audittrail"
)

// decodeJSON reads the request body into v strictly: one JSON value, no
// unknown fields, text that is UTF-8. Errors name the position or the
// field.
func decodeJSON(r *http.Request, v any) error {
	var body bytes.Buffer
	dec := json.NewDecoder(io.TeeReader(r.Body, &body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, dec)
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return bodyTooLarge()
		}
		return audittrail.Errorf(audittrail.EINVALIDJSON, "the body holds more than one JSON value (after byte %d)", dec.InputOffset())
	}
	return checkText(body.Bytes())
}

// maxTextDetails bounds the details of a body with many strings that are
// not text.
const maxTextDetails = 100

// checkText refuses a body with a string that is not text: invalid UTF-8,
// a \u escape of a lone UTF-16 surrogate, or NUL (\u0000). encoding/json
// would turn the first two silently into U+FFFD, and PostgreSQL cannot
// store the third; the service stores what it was sent or refuses it, the
// same on every backend. The answer is EVALIDATION (422) with one detail per string;
// in a batch ({"records": [...]}), index and field name the item and its
// field.
func checkText(body []byte) error {
	if utf8.Valid(body) && !bytes.Contains(body, []byte(`\ud`)) && !bytes.Contains(body, []byte(`\uD`)) && !bytes.Contains(body, []byte(`\u0000`)) {
		return nil
	}
	type frame struct {
		array   bool
		index   int    // of the array's current element
		key     string // of the object's current member
		wantKey bool
	}
	var (
		stack   []*frame
		details []audittrail.ErrorDetail
	)
	// where names the current string: inside an item of a batch
	// ({"records": [{...}]}), the item's index and the path inside it;
	// elsewhere index 0 and the path from the top.
	where := func() (int, string) {
		var b strings.Builder
		index, from := 0, 0
		if len(stack) >= 3 && !stack[0].array && stack[1].array && !stack[2].array {
			index, from = stack[1].index, 2
		}
		for _, fr := range stack[from:] {
			if fr.array {
				b.WriteString("[" + strconv.Itoa(fr.index) + "]")
			} else {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(audittrail.Clip(fr.key))
			}
		}
		return index, b.String()
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for len(details) < maxTextDetails {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			break
		}
		raw := body[start:dec.InputOffset()]
		var top *frame
		if n := len(stack); n > 0 {
			top = stack[n-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if n := len(stack); n > 0 && !stack[n-1].array {
				stack[n-1].wantKey = true
			}
			continue
		}
		isKey := top != nil && !top.array && top.wantKey
		switch {
		case isKey:
			top.key, top.wantKey = tok.(string), false
		case top != nil && top.array:
			top.index++
		case top != nil:
			top.wantKey = true // after this value, the next member
		}
		if _, ok := tok.(string); ok && !isText(raw) {
			i, field := where()
			if field == "" {
				field = "(the body)"
			}
			details = append(details, audittrail.ErrorDetail{Index: i, Field: field, Code: audittrail.EVALIDATION,
				Message: fmt.Sprintf("%s at byte %d is not UTF-8 text (invalid bytes, a lone surrogate escape, or NUL); send text as UTF-8 without NUL characters", field, start)})
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{wantKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{array: true, index: -1})
		}
	}
	if len(details) == 0 {
		return nil
	}
	msg := details[0].Message + "; nothing was stored"
	if len(details) > 1 {
		msg = fmt.Sprintf("%d strings of the body are not UTF-8 text; nothing was stored. First: %s", len(details), details[0].Message)
	}
	return &audittrail.Error{Code: audittrail.EVALIDATION, Message: msg, Details: details}
}

// isText reports whether the raw bytes of a JSON string token (with the
// separators before it) are UTF-8 and escape neither a lone UTF-16
// surrogate nor NUL.
func isText(raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' || i+1 >= len(raw) {
			continue
		}
		if raw[i+1] != 'u' {
			i++ // \", \\, \n, ...
			continue
		}
		r := hex4(raw, i+2)
		switch {
		case r == 0:
			return false // NUL
		case r >= 0xDC00 && r <= 0xDFFF:
			return false // a low surrogate alone
		case r >= 0xD800 && r <= 0xDBFF:
			if i+12 > len(raw) || raw[i+6] != '\\' || raw[i+7] != 'u' {
				return false
			}
			if lo := hex4(raw, i+8); lo < 0xDC00 || lo > 0xDFFF {
				return false
			}
			i += 11
		default:
			i += 5
		}
	}
	return true
}

// hex4 reads the four hex digits at raw[i:], or -1.
func hex4(raw []byte, i int) int {
	if i+4 > len(raw) {
		return -1
	}
	n, err := strconv.ParseUint(string(raw[i:i+4]), 16, 32)
	if err != nil {
		return -1
	}
	return int(n)
}

func bodyTooLarge() error {
	return audittrail.Errorf(audittrail.EBODYTOOLARGE, "the request body is larger than %d MiB; send smaller batches", MaxBodyBytes>>20)
}

// jsonError turns a decoding error into an EINVALIDJSON error that says where.
func jsonError(err error, dec *json.Decoder) error {
	var (
		mbe *http.MaxBytesError
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return bodyTooLarge()
	case errors.Is(err, io.EOF):
		return audittrail.Errorf(audittrail.EINVALIDJSON, "the request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return audittrail.Errorf(audittrail.EINVALIDJSON, "the JSON body ends early, at byte %d", dec.InputOffset())
	case errors.As(err, &syn):
		return audittrail.Errorf(audittrail.EINVALIDJSON, "malformed JSON at byte %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(the body)"
		}
		return audittrail.Errorf(audittrail.EINVALIDJSON, "field %s at byte %d must be %s, not %s", field, typ.Offset, typ.Type, typ.Value)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if name, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return audittrail.Errorf(audittrail.EINVALIDJSON, "unknown field %s near byte %d", audittrail.Clip(name), dec.InputOffset())
	}
	return audittrail.Errorf(audittrail.EINVALIDJSON, "invalid JSON near byte %d: %s", dec.InputOffset(), audittrail.Clip(msg))
}
