package http

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/audittrail/audittrail"
)

// decodeJSON reads the request body into v strictly: one JSON value, no
// unknown fields. Errors name the position or the field.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
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
	return nil
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
		return audittrail.Errorf(audittrail.EINVALIDJSON, "unknown field %s near byte %d", clip(name), dec.InputOffset())
	}
	return audittrail.Errorf(audittrail.EINVALIDJSON, "invalid JSON near byte %d: %s", dec.InputOffset(), clip(msg))
}

// clip shortens a value quoted back in a message.
func clip(s string) string {
	if r := []rune(s); len(r) > 64 {
		return fmt.Sprint(string(r[:64]), "…")
	}
	return s
}
