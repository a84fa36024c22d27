package audittrail

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// DecodeOriginator reads the originator column of a record row (what
// RecordRow.Originator holds) into o, which must be zero, with the outcome
// of json.Unmarshal. Both backends keep that column: SQLite as json.Marshal
// wrote it, an object of the known keys without spaces; PostgreSQL as jsonb
// prints it, with one space after each colon and comma. Those forms, with
// strings that need no unescaping, are read here without reflection, every
// string a substring of s; anything else (an escape, a space, an unknown
// key, a null, invalid UTF-8) goes to json.Unmarshal, so that the result
// never differs from it.
func DecodeOriginator(s string, o *Originator) error {
	if !decodeOriginatorFast(s, o) {
		*o = Originator{}
		return json.Unmarshal([]byte(s), o)
	}
	return nil
}

// decodeOriginatorFast decodes the plain form of s into o and reports
// whether it could.
func decodeOriginatorFast(s string, o *Originator) bool {
	// str reads the plain string at s[i:] and returns it and the index after it.
	str := func(i int) (string, int, bool) {
		if i >= len(s) || s[i] != '"' {
			return "", 0, false
		}
		for j := i + 1; j < len(s); j++ {
			switch c := s[j]; {
			case c == '"':
				v := s[i+1 : j]
				return v, j + 1, utf8.ValidString(v)
			case c == '\\' || c < 0x20:
				return "", 0, false
			}
		}
		return "", 0, false
	}
	// space skips the one space that jsonb prints after a colon or comma.
	space := func(i int) int {
		if i < len(s) && s[i] == ' ' {
			return i + 1
		}
		return i
	}
	if len(s) < 2 || s[0] != '{' {
		return false
	}
	i := 1
	if s[i] == '}' {
		return i+1 == len(s)
	}
	for {
		key, j, ok := str(i)
		if !ok || j >= len(s) || s[j] != ':' {
			return false
		}
		i = space(j + 1)
		var field *string
		switch key {
		case "id":
			field = &o.ID
		case "name":
			field = &o.Name
		case "login_name":
			field = &o.LoginName
		case "employee_id":
			field = &o.EmployeeID
		case "user_agent":
			field = &o.UserAgent
		case "auth_type":
			field = &o.AuthType
		case "is_lpa":
			switch {
			case strings.HasPrefix(s[i:], "true"):
				o.IsLPA, i = true, i+4
			case strings.HasPrefix(s[i:], "false"):
				o.IsLPA, i = false, i+5
			default:
				return false
			}
		case "profiles":
			if i >= len(s) || s[i] != '[' {
				return false
			}
			i++
			profiles := []string{}
			for i < len(s) && s[i] != ']' {
				if len(profiles) > 0 {
					if s[i] != ',' {
						return false
					}
					i = space(i + 1)
				}
				p, j, ok := str(i)
				if !ok {
					return false
				}
				profiles, i = append(profiles, p), j
			}
			if i >= len(s) {
				return false
			}
			o.Profiles, i = profiles, i+1
		default:
			return false
		}
		if field != nil {
			v, j, ok := str(i)
			if !ok {
				return false
			}
			*field, i = v, j
		}
		if i >= len(s) {
			return false
		}
		switch s[i] {
		case ',':
			i = space(i + 1)
		case '}':
			return i+1 == len(s)
		default:
			return false
		}
	}
}
