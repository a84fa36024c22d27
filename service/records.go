package service

import (
	"context"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/ingest"
)

// AppendRecords stores a platform's element-level records (SPEC §6 POST
// .../records) as the publisher key p, all or nothing, and returns them as
// stored. Returns the validation codes of the contract, ENOTFOUND,
// EAUDITTRAILDISABLED, EBEFOREENABLED, EIDEMPOTENCYCONFLICT.
func (s *Service) AppendRecords(ctx context.Context, p *audittrail.Principal, accountID string, items []ingest.RecordInput) ([]*audittrail.Record, error) {
	return s.append(ctx, p, accountID, func(acct *audittrail.Account) ([]audittrail.Entry, error) {
		return s.ingester.PrepareRecords(acct, items, p.Key.Name)
	})
}

// AppendChanges stores a platform's changes given as before/after
// snapshots (SPEC §6 POST .../changes): the diff engine works out their
// records, secrets redacted, and stores them all or nothing.
func (s *Service) AppendChanges(ctx context.Context, p *audittrail.Principal, accountID string, items []ingest.ChangeInput) ([]*audittrail.Record, error) {
	return s.append(ctx, p, accountID, func(acct *audittrail.Account) ([]audittrail.Entry, error) {
		return s.ingester.PrepareChanges(acct, items, p.Key.Name)
	})
}

// append prepares a batch against the account and stores it; it returns
// only once the store has made the records durable.
func (s *Service) append(ctx context.Context, p *audittrail.Principal, accountID string, prepare func(*audittrail.Account) ([]audittrail.Entry, error)) ([]*audittrail.Record, error) {
	if err := Authorize(p, Publisher, accountID); err != nil {
		return nil, err
	}
	acct, err := s.store.FindAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	entries, err := prepare(acct)
	if err != nil {
		return nil, err
	}
	return s.store.AppendRecords(ctx, acct.ID, entries)
}

// Page is a page of records, newest first, and the cursor of the next
// page (nil on the last).
type Page struct {
	Records []*audittrail.Record
	Next    *audittrail.Cursor
}

// FindRecords returns the page of records that f selects (f.Limit of them,
// DefaultLimit when 0), inside the retention window. Viewers only; logged.
func (s *Service) FindRecords(ctx context.Context, p *audittrail.Principal, f audittrail.RecordFilter) (page *Page, err error) {
	err = s.logged(ctx, p, reading{account: f.AccountID, action: audittrail.AccessList, filters: GivenFilters(f)}, func() (int, error) {
		page, err = s.findRecords(ctx, f)
		if err != nil {
			return 0, err
		}
		return len(page.Records), nil
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

func (s *Service) findRecords(ctx context.Context, f audittrail.RecordFilter) (*Page, error) {
	Clamp(&f, s.cfg.Retention, s.now())
	if f.Limit <= 0 {
		f.Limit = audittrail.DefaultLimit
	}
	limit := f.Limit
	f.Limit++ // one more tells whether a next page exists
	recs, err := s.store.FindRecords(ctx, f)
	if err != nil {
		return nil, err
	}
	page := &Page{Records: recs}
	if len(recs) > limit {
		page.Records = recs[:limit]
		page.Next = audittrail.CursorOf(recs[limit-1])
	}
	return page, nil
}

// CountRecords counts the records that f selects inside the retention
// window. Viewers only; logged, with the count as the entry's records.
func (s *Service) CountRecords(ctx context.Context, p *audittrail.Principal, f audittrail.RecordFilter) (n int, err error) {
	err = s.logged(ctx, p, reading{account: f.AccountID, action: audittrail.AccessCount, filters: GivenFilters(f)}, func() (int, error) {
		n, err = s.countRecords(ctx, f)
		return n, err
	})
	return n, err
}

func (s *Service) countRecords(ctx context.Context, f audittrail.RecordFilter) (int, error) {
	Clamp(&f, s.cfg.Retention, s.now())
	return s.store.CountRecords(ctx, f)
}

// FindRecord returns a record of the account. A record older than the
// retention window is not found, purged yet or not. Viewers only; logged.
// Returns ENOTFOUND.
func (s *Service) FindRecord(ctx context.Context, p *audittrail.Principal, accountID, id string) (rec *audittrail.Record, err error) {
	err = s.logged(ctx, p, reading{account: accountID, action: audittrail.AccessGet, filters: map[string]string{"id": audittrail.Clip(id)}}, func() (int, error) {
		rec, err = s.findRecord(ctx, accountID, id)
		if err != nil {
			return 0, err
		}
		return 1, nil
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

func (s *Service) findRecord(ctx context.Context, accountID, id string) (*audittrail.Record, error) {
	rec, err := s.store.FindRecord(ctx, accountID, id)
	if err == nil && rec.Date.Before(s.windowStart()) {
		err = audittrail.Errorf(audittrail.ENOTFOUND, "record %s not found", audittrail.Clip(id))
	}
	return rec, err
}

// Reader reads the records of one logged read in progress (see Read): its
// reads are the parts of that one read, logged once, by Read.
type Reader struct {
	s *Service
}

// IterateRecords calls fn with every record that f selects inside the
// retention window, newest first, a page at a time (Limit ignored).
func (r *Reader) IterateRecords(ctx context.Context, f audittrail.RecordFilter, fn func(*audittrail.Record) error) error {
	Clamp(&f, r.s.cfg.Retention, r.s.now())
	return r.s.store.IterateRecords(ctx, f, fn)
}

// CountRecords counts the records that f selects inside the retention
// window.
func (r *Reader) CountRecords(ctx context.Context, f audittrail.RecordFilter) (int, error) {
	return r.s.countRecords(ctx, f)
}

// Read runs a read of the account's trail made of several reads of
// records (a LiveEngage query or export) as p: it authorizes p as a
// viewer, runs fn with a Reader, and logs the read once, with action,
// format, the filters as given and the count of records that fn returns
// its answer holds (SPEC §11). Returns fn's error, or EUNAVAILABLE when
// the read could not be logged.
func (s *Service) Read(ctx context.Context, p *audittrail.Principal, accountID, action, format string, filters map[string]string, fn func(*Reader) (int, error)) error {
	return s.logged(ctx, p, reading{account: accountID, action: action, format: format, filters: filters}, func() (int, error) {
		return fn(&Reader{s: s})
	})
}

// Clamp moves the start of f into the retention window that ends at now:
// whatever a caller asks, nothing older is shown.
func Clamp(f *audittrail.RecordFilter, r audittrail.Retention, now time.Time) {
	if ws := r.Start(now); f.From == nil || f.From.Before(ws) {
		f.From = &ws
	}
}
