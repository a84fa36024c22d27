package service

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/audittrail/audittrail"
)

// FilterParams are the query parameters that select records (SPEC §6),
// as every front end names them: the API, the UI's URLs and the CLI's
// export flags.
var FilterParams = []string{"from", "to", "object_type", "action_type", "element", "object_name", "object_id", "originator", "q"}

// PageParams are the parameters of a page of records.
var PageParams = []string{"limit", "cursor"}

// ParseFilter reads a RecordFilter of the account from query values under
// the contract's names, with the paging parameters when paged. Unknown
// names, bad values and values no record could hold are
// EINVALIDPARAMETER. The service clamps the filter to the retention window
// when it reads.
func ParseFilter(q url.Values, accountID string, paged bool) (audittrail.RecordFilter, error) {
	allowed := FilterParams
	if paged {
		allowed = append(allowed[:len(allowed):len(allowed)], PageParams...)
	}
	f := audittrail.RecordFilter{AccountID: accountID, Limit: audittrail.DefaultLimit}
	for name := range q {
		if !contains(allowed, name) {
			return f, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "unknown query parameter %q; known: %s", audittrail.Clip(name), strings.Join(allowed, ", "))
		}
	}
	f.Element, f.ObjectName, f.ObjectID = q.Get("element"), q.Get("object_name"), q.Get("object_id")
	f.Originator, f.Query = q.Get("originator"), q.Get("q")
	for name, vs := range q {
		for _, v := range vs {
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				return f, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "%s is not UTF-8 text without NUL characters, which no record holds", audittrail.Clip(name))
			}
		}
	}
	for name, v := range map[string]string{"element": f.Element, "object_name": f.ObjectName, "object_id": f.ObjectID, "originator": f.Originator, "q": f.Query} {
		if len([]rune(v)) > 512 {
			return f, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "%s is longer than 512 characters", name)
		}
	}
	f.ObjectTypes = splitList(q.Get("object_type"))
	f.ActionTypes = splitList(q.Get("action_type"))
	if len(f.ObjectTypes) > 100 || len(f.ActionTypes) > 3 {
		return f, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "too many values in object_type or action_type")
	}
	for _, a := range f.ActionTypes {
		if a != audittrail.ActionAdd && a != audittrail.ActionEdit && a != audittrail.ActionDelete {
			return f, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "action_type %q must be add, edit or delete", audittrail.Clip(a))
		}
	}
	var err error
	if f.From, err = parseTime(q, "from"); err != nil {
		return f, err
	}
	if f.To, err = parseTime(q, "to"); err != nil {
		return f, err
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > audittrail.MaxLimit {
			return f, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "limit must be a whole number from 1 to %d", audittrail.MaxLimit)
		}
		f.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		if f.After, err = audittrail.ParseCursor(v); err != nil {
			return f, err
		}
	}
	return f, nil
}

func parseTime(q url.Values, name string) (*time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "%s %q is not an RFC 3339 time such as 2026-01-31T00:00:00Z", name, audittrail.Clip(v))
	}
	t = t.UTC()
	return &t, nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
