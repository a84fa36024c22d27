package store

import (
	"context"

	"github.com/audittrail/audittrail"
)

// AppendAccess appends entries to the access logs of their accounts in one
// write transaction, setting each entry's id when empty and its time by the
// transaction's clock when zero, cut to milliseconds as stored.
func (s *Store) AppendAccess(ctx context.Context, entries []*audittrail.AccessEntry) error {
	if len(entries) == 0 {
		return nil
	}
	return s.b.Update(ctx, func(t audittrail.Tx) error {
		for _, e := range entries {
			if e.ID == "" {
				e.ID = audittrail.NewAccessID()
			}
			if e.At.IsZero() {
				e.At = t.Now()
			}
			e.At = audittrail.TruncateTime(e.At)
			if e.Filters == nil {
				e.Filters = map[string]string{}
			}
		}
		return t.InsertAccessEntries(entries)
	})
}

// FindAccessEntries returns at most f.Limit entries matching f
// (DefaultLimit when f.Limit <= 0), newest first by (at, id), starting
// after f.After.
func (s *Store) FindAccessEntries(ctx context.Context, f audittrail.AccessFilter) (es []*audittrail.AccessEntry, err error) {
	if f.Limit <= 0 {
		f.Limit = audittrail.DefaultLimit
	}
	err = s.b.View(ctx, func(t audittrail.Tx) error {
		es = make([]*audittrail.AccessEntry, 0, min(f.Limit, 256))
		return t.FindAccessEntries(f, func(e *audittrail.AccessEntry) error {
			es = append(es, e)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return es, nil
}
