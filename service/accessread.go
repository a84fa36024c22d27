package service

import (
	"context"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
)

// AccessParams are the query parameters of the access log (SPEC §11).
var AccessParams = []string{"from", "to", "actor", "action", "limit", "cursor"}

// ParseAccessFilter reads an AccessFilter of the account from query
// values under the contract's names, with the paging parameters when
// paged. Unknown names and bad values are EINVALIDPARAMETER.
func ParseAccessFilter(q url.Values, accountID string, paged bool) (audittrail.AccessFilter, error) {
	f := audittrail.AccessFilter{AccountID: accountID, Limit: audittrail.DefaultLimit}
	for name, vs := range q {
		if !contains(AccessParams, name) || (!paged && (name == "limit" || name == "cursor")) {
			return f, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "unknown query parameter %q; known: %s", audittrail.Clip(name), strings.Join(AccessParams, ", "))
		}
		for _, v := range vs {
			if len(v) > 512 {
				return f, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "%s is longer than 512 characters", name)
			}
		}
	}
	for _, name := range []string{"from", "to"} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return f, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "%s must be an RFC 3339 date-time, like 2026-03-01T00:00:00Z", name)
		}
		if name == "from" {
			f.From = &t
		} else {
			f.To = &t
		}
	}
	f.Actor = q.Get("actor")
	f.Actions = splitList(q.Get("action"))
	for _, a := range f.Actions {
		if !contains(audittrail.AccessActions, a) {
			return f, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "action %q is not one of %s", audittrail.Clip(a), strings.Join(audittrail.AccessActions, ", "))
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > audittrail.MaxLimit {
			return f, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "limit must be a whole number from 1 to %d", audittrail.MaxLimit)
		}
		f.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		c, err := audittrail.ParseAccessCursor(v)
		if err != nil {
			return f, err
		}
		f.After = c
	}
	return f, nil
}

// AccessPage is a page of the access log, newest first, and the cursor of
// the next page (nil on the last).
type AccessPage struct {
	Entries []*audittrail.AccessEntry
	Next    *audittrail.AccessCursor
}

// FindAccessEntries returns the page of the account's access log that f
// selects, inside the retention window. Viewers only. The access log's own
// reads are not logged (SPEC §11).
func (s *Service) FindAccessEntries(ctx context.Context, p *audittrail.Principal, f audittrail.AccessFilter) (*AccessPage, error) {
	if err := Authorize(p, Viewer, f.AccountID); err != nil {
		return nil, err
	}
	s.clampAccess(&f)
	limit := f.Limit
	if limit <= 0 {
		limit = audittrail.DefaultLimit
	}
	f.Limit = limit + 1
	es, err := s.store.FindAccessEntries(ctx, f)
	if err != nil {
		return nil, err
	}
	page := &AccessPage{Entries: es}
	if len(es) > limit {
		page.Entries = es[:limit]
		page.Next = audittrail.AccessCursorOf(es[limit-1])
	}
	return page, nil
}

// AccessExport is an export of an access log that has been allowed to
// start (see OpenAccessExport).
type AccessExport struct {
	// Filename is what the download is named.
	Filename string

	s   *Service
	f   audittrail.AccessFilter
	loc *time.Location
}

// OpenAccessExport starts a CSV export of the entries of the account's
// access log that f selects (Limit and After ignored), inside the retention
// window. Viewers only; not logged (SPEC §11).
func (s *Service) OpenAccessExport(ctx context.Context, p *audittrail.Principal, f audittrail.AccessFilter) (*AccessExport, error) {
	if err := Authorize(p, Viewer, f.AccountID); err != nil {
		return nil, err
	}
	acct, err := s.store.FindAccount(ctx, f.AccountID)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(acct.Timezone)
	if err != nil {
		loc = time.UTC
	}
	s.clampAccess(&f)
	f.After, f.Limit = nil, audittrail.MaxLimit
	return &AccessExport{Filename: "access-log-" + acct.ID + ".csv", s: s, f: f, loc: loc}, nil
}

// WriteTo writes the export to w, newest first, a page at a time.
func (e *AccessExport) WriteTo(ctx context.Context, w io.Writer) error {
	enc, err := export.NewAccessCSVEncoder(w, e.loc)
	if err != nil {
		return err
	}
	f := e.f
	for {
		es, err := e.s.store.FindAccessEntries(ctx, f)
		if err != nil {
			return err
		}
		for _, a := range es {
			if err := enc.Encode(a); err != nil {
				return err
			}
		}
		if len(es) < f.Limit {
			return enc.Close()
		}
		f.After = audittrail.AccessCursorOf(es[len(es)-1])
	}
}

// clampAccess moves the start of f into the retention window: entries are
// kept, and shown, as long as records.
func (s *Service) clampAccess(f *audittrail.AccessFilter) {
	if ws := s.windowStart(); f.From == nil || f.From.Before(ws) {
		f.From = &ws
	}
}
