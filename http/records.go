package http

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/ingest"
)

func (s *Server) handlePostRecords(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	var req struct {
		Records []ingest.RecordInput `json:"records"`
	}
	if err := decodeJSON(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	s.chargeIngest(r, len(req.Records))
	s.append(w, r, func(acct *audittrail.Account) ([]audittrail.Entry, error) {
		return s.Ingester.PrepareRecords(acct, req.Records, p.Key.Name)
	})
}

func (s *Server) handlePostChanges(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	var req struct {
		Changes []ingest.ChangeInput `json:"changes"`
	}
	if err := decodeJSON(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	s.chargeIngest(r, len(req.Changes))
	s.append(w, r, func(acct *audittrail.Account) ([]audittrail.Entry, error) {
		return s.Ingester.PrepareChanges(acct, req.Changes, p.Key.Name)
	})
}

// append prepares a batch against the account and stores it; it answers
// 201 only once the store has made the records durable.
func (s *Server) append(w http.ResponseWriter, r *http.Request, prepare func(*audittrail.Account) ([]audittrail.Entry, error)) {
	acct, err := s.Store.FindAccount(r.Context(), r.PathValue("account"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	entries, err := prepare(acct)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	recs, err := s.Store.AppendRecords(r.Context(), acct.ID, entries)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.metrics.recordsAccepted.WithLabelValues(r.Pattern).Add(float64(len(recs)))
	writeRecords(w, http.StatusCreated, recs, false, nil)
}

func (s *Server) handleListRecords(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	f, err := s.parseFilter(r, true)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	limit := f.Limit
	f.Limit++ // one more tells whether a next page exists
	recs, err := s.Store.FindRecords(r.Context(), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var next *string
	if len(recs) > limit {
		recs = recs[:limit]
		c := audittrail.CursorOf(recs[limit-1]).String()
		next = &c
	}
	writeRecords(w, http.StatusOK, recs, true, next)
}

// bodies holds the buffers that writeRecords builds bodies in.
var bodies = sync.Pool{New: func() any { return new([]byte) }}

// writeRecords writes records as the JSON body with the status: the bytes
// that writeJSON writes for map[string]any{"records": recs}, or with paged
// for map[string]any{"next_cursor": next, "records": recs}, each record
// written by Record.AppendJSON rather than by reflection.
func writeRecords(w http.ResponseWriter, status int, recs []*audittrail.Record, paged bool, next *string) {
	bp := bodies.Get().(*[]byte)
	b := append((*bp)[:0], '{')
	if paged {
		cursor, _ := json.Marshal(next)
		b = append(b, `"next_cursor":`...)
		b = append(append(b, cursor...), ',')
	}
	b = append(b, `"records":[`...)
	for i, rec := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = rec.AppendJSON(b)
	}
	b = append(b, "]}\n"...)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
	if cap(b) <= 1<<20 { // a buffer of a huge page is left to the collector
		*bp = b
		bodies.Put(bp)
	}
}

func (s *Server) handleCountRecords(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	f, err := s.parseFilter(r, false)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	n, err := s.Store.CountRecords(r.Context(), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"count": n})
}

func (s *Server) handleGetRecord(w http.ResponseWriter, r *http.Request, _ *audittrail.Principal) {
	rec, err := s.findRecord(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

// findRecord finds the record of the request's path. A record older than
// the retention window is not found, purged yet or not.
func (s *Server) findRecord(r *http.Request) (*audittrail.Record, error) {
	rec, err := s.Store.FindRecord(r.Context(), r.PathValue("account"), r.PathValue("id"))
	if err == nil && rec.Date.Before(s.Retention.Start(s.Now())) {
		err = audittrail.Errorf(audittrail.ENOTFOUND, "record %s not found", clip(r.PathValue("id")))
	}
	return rec, err
}

// filterParams are the query parameters of the record routes; paging
// names only where a page is asked for.
var filterParams = []string{"from", "to", "object_type", "action_type", "element", "object_name", "object_id", "originator", "q"}

// parseFilter reads the filters of SPEC §6 from the query, scoped to the
// route's account and clamped to the retention window.
func (s *Server) parseFilter(r *http.Request, paged bool) (audittrail.RecordFilter, error) {
	q := r.URL.Query()
	allowed := filterParams
	if paged {
		allowed = append(allowed[:len(allowed):len(allowed)], "limit", "cursor")
	}
	for name := range q {
		if !contains(allowed, name) {
			return audittrail.RecordFilter{}, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "unknown query parameter %q; known: %s", clip(name), strings.Join(allowed, ", "))
		}
	}
	return ParseFilter(q, r.PathValue("account"), s.Retention.Start(s.Now()))
}

// ParseFilter reads a RecordFilter from query values: the API's filter
// names, with from clamped to windowStart, the start of the retention window.
func ParseFilter(q url.Values, accountID string, windowStart time.Time) (audittrail.RecordFilter, error) {
	f := audittrail.RecordFilter{
		AccountID:  accountID,
		Element:    q.Get("element"),
		ObjectName: q.Get("object_name"),
		ObjectID:   q.Get("object_id"),
		Originator: q.Get("originator"),
		Query:      q.Get("q"),
		Limit:      audittrail.DefaultLimit,
	}
	for name, vs := range q {
		for _, v := range vs {
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				return f, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "%s is not UTF-8 text without NUL characters, which no record holds", clip(name))
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
			return f, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "action_type %q must be add, edit or delete", clip(a))
		}
	}
	var err error
	if f.From, err = parseTime(q, "from"); err != nil {
		return f, err
	}
	if f.To, err = parseTime(q, "to"); err != nil {
		return f, err
	}
	if f.From == nil || f.From.Before(windowStart) {
		ws := windowStart
		f.From = &ws
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
		return nil, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "%s %q is not an RFC 3339 time such as 2026-01-31T00:00:00Z", name, clip(v))
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
