package tlog

import (
	"strconv"
	"unicode/utf8"

	"github.com/audittrail/audittrail"
	"github.com/transparency-dev/merkle/rfc6962"
)

// Hasher is the RFC 6962 hasher of the log.
var Hasher = rfc6962.DefaultHasher

// LeafData returns the canonical bytes of a record (RFC 8785): the API's
// JSON of the record without id and received_at, keys sorted, no
// whitespace. It writes the record's fixed shape directly, in the key order
// RFC 8785 gives (by UTF-16 code units, which for these ASCII keys is
// bytewise); leaf_test.go checks it against a general RFC 8785
// implementation.
func LeafData(r *audittrail.Record) []byte {
	b := make([]byte, 0, 256+len(r.OldValue)+len(r.NewValue))
	b = append(b, `{"action_type":`...)
	b = appendString(b, r.ActionType)
	b = append(b, `,"automatic":`...)
	b = strconv.AppendBool(b, r.Automatic)
	b = append(b, `,"change_id":`...)
	b = appendString(b, r.ChangeID)
	b = append(b, `,"date":`...)
	b = appendString(b, audittrail.FormatTime(r.Date))
	b = append(b, `,"element":`...)
	b = appendString(b, r.Element)
	b = append(b, `,"new_value":`...)
	b = appendString(b, r.NewValue)
	b = append(b, `,"object_id":`...)
	b = appendString(b, r.ObjectID)
	b = append(b, `,"object_name":`...)
	b = appendString(b, r.ObjectName)
	b = append(b, `,"object_type":`...)
	b = appendString(b, r.ObjectType)
	b = append(b, `,"old_value":`...)
	b = appendString(b, r.OldValue)
	b = append(b, `,"originator":`...)
	b = appendOriginator(b, &r.Originator)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, r.Seq, 10)
	b = append(b, `,"source":`...)
	b = appendString(b, r.Source)
	return append(b, '}')
}

// appendOriginator writes the originator as the API does: id and name
// always, the other fields only when set (they are omitempty).
func appendOriginator(b []byte, o *audittrail.Originator) []byte {
	b = append(b, '{')
	if o.AuthType != "" {
		b = append(b, `"auth_type":`...)
		b = appendString(b, o.AuthType)
		b = append(b, ',')
	}
	if o.EmployeeID != "" {
		b = append(b, `"employee_id":`...)
		b = appendString(b, o.EmployeeID)
		b = append(b, ',')
	}
	b = append(b, `"id":`...)
	b = appendString(b, o.ID)
	if o.IsLPA {
		b = append(b, `,"is_lpa":true`...)
	}
	if o.LoginName != "" {
		b = append(b, `,"login_name":`...)
		b = appendString(b, o.LoginName)
	}
	b = append(b, `,"name":`...)
	b = appendString(b, o.Name)
	if len(o.Profiles) > 0 {
		b = append(b, `,"profiles":[`...)
		for i, p := range o.Profiles {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, p)
		}
		b = append(b, ']')
	}
	if o.UserAgent != "" {
		b = append(b, `,"user_agent":`...)
		b = appendString(b, o.UserAgent)
	}
	return append(b, '}')
}

// appendString writes s as an RFC 8785 string: '"' and '\' escaped, control
// characters as \b \t \n \f \r or \u00xx, everything else as UTF-8. An
// invalid UTF-8 byte becomes U+FFFD, as encoding/json writes it in the API.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\b':
				b = append(b, '\\', 'b')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\f':
				b = append(b, '\\', 'f')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\ufffd"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// LeafHash returns the leaf hash of a record.
func LeafHash(r *audittrail.Record) []byte { return Hasher.HashLeaf(LeafData(r)) }
