package liveengage

import (
	"context"
	"errors"
	"slices"

	"github.com/audittrail/audittrail"
)

// chunk is how many records an ascending walk holds at a time.
const chunk = 500

// errStop ends a walk early; each does not return it.
var errStop = errors.New("liveengage: stop")

// scan walks the records of a search: the store applies the filter, and
// keep (when not nil) the conditions it has no filter for.
type scan struct {
	store audittrail.RecordStore
	f     audittrail.RecordFilter
	keep  func(*audittrail.Record) bool
}

func newScan(store audittrail.RecordStore, s *search) *scan {
	f, keep := s.filter()
	return &scan{store: store, f: f, keep: keep}
}

// each calls fn with each matching record, newest first, starting after
// the cursor (nil: with the newest). fn returns errStop to end the walk.
func (sc *scan) each(ctx context.Context, after *audittrail.Cursor, fn func(*audittrail.Record) error) error {
	f := sc.f
	f.After = after
	err := sc.store.IterateRecords(ctx, f, func(r *audittrail.Record) error {
		if sc.keep != nil && !sc.keep(r) {
			return nil
		}
		return fn(r)
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// count returns the number of matching records: a count by the store when
// it applies every condition, else a walk.
func (sc *scan) count(ctx context.Context) (int, error) {
	if sc.keep == nil {
		return sc.store.CountRecords(ctx, sc.f)
	}
	n := 0
	err := sc.each(ctx, nil, func(*audittrail.Record) error {
		n++
		return nil
	})
	return n, err
}

// page returns the number of matching records and the first records from
// position offset, newest first, or oldest first when ascending.
func (sc *scan) page(ctx context.Context, ascending bool, offset, first int) (total int, recs []*audittrail.Record, err error) {
	collect := func(r *audittrail.Record) error {
		recs = append(recs, r)
		return nil
	}
	switch {
	case ascending:
		total, marks, err := sc.index(ctx)
		if err != nil {
			return 0, nil, err
		}
		err = sc.ascending(ctx, total, marks, offset, first, collect)
		return total, recs, err

	case sc.keep == nil:
		// The store counts; the walk stops at the end of the page.
		if total, err = sc.store.CountRecords(ctx, sc.f); err != nil || first == 0 || offset >= total {
			return total, nil, err
		}
		i := 0
		err = sc.each(ctx, nil, func(r *audittrail.Record) error {
			if i++; i <= offset {
				return nil
			}
			recs = append(recs, r)
			if len(recs) == first {
				return errStop
			}
			return nil
		})
		return total, recs, err

	default:
		// One walk counts every record and keeps those of the page.
		err = sc.each(ctx, nil, func(r *audittrail.Record) error {
			if total >= offset && total < offset+first {
				recs = append(recs, r)
			}
			total++
			return nil
		})
		return total, recs, err
	}
}

// stream calls begin with the number of matching records, then fn with at
// most limit of them, newest first, or oldest first when ascending.
func (sc *scan) stream(ctx context.Context, ascending bool, limit int, begin func(total int) error, fn func(*audittrail.Record) error) error {
	if ascending {
		total, marks, err := sc.index(ctx)
		if err != nil {
			return err
		}
		if err := begin(total); err != nil {
			return err
		}
		return sc.ascending(ctx, total, marks, 0, limit, fn)
	}
	total, err := sc.count(ctx)
	if err != nil {
		return err
	}
	if err := begin(total); err != nil {
		return err
	}
	n := 0
	return sc.each(ctx, nil, func(r *audittrail.Record) error {
		if n == limit {
			return errStop
		}
		n++
		return fn(r)
	})
}

// index walks the matching records once, newest first, and returns their
// number and a mark per chunk: the walk's records j*chunk to
// (j+1)*chunk-1 make chunk j, which starts after marks[j] and ends with
// the record at marks[j+1] (the last chunk: with the oldest record).
func (sc *scan) index(ctx context.Context) (total int, marks []*audittrail.Cursor, err error) {
	var prev *audittrail.Cursor
	err = sc.each(ctx, nil, func(r *audittrail.Record) error {
		if total%chunk == 0 {
			if prev == nil {
				// Just above the newest record: records that arrive
				// later with a later date stay out of the walk.
				marks = append(marks, &audittrail.Cursor{Date: r.Date, Seq: r.Seq + 1})
			} else {
				marks = append(marks, prev)
			}
		}
		prev = audittrail.CursorOf(r)
		total++
		return nil
	})
	return total, marks, err
}

// ascending calls fn with at most limit records, oldest first, from
// position skip of the oldest-first order, reading the chunks of index
// from the oldest up, one at a time. Bounding a chunk by cursors rather
// than by a count means that a record stored between the two walks shifts
// the positions by one, but never makes the walk skip or repeat a record.
func (sc *scan) ascending(ctx context.Context, total int, marks []*audittrail.Cursor, skip, limit int, fn func(*audittrail.Record) error) error {
	emitted := 0
	for j := len(marks) - 1; j >= 0 && emitted < limit; j-- {
		lo, hi := max(total-(j+1)*chunk, 0), total-j*chunk // positions of the chunk, oldest first
		if hi <= skip {
			continue
		}
		recs, err := sc.readChunk(ctx, marks, j)
		if err != nil {
			return err
		}
		slices.Reverse(recs)
		if skip > lo {
			recs = recs[min(skip-lo, len(recs)):]
		}
		for _, r := range recs {
			if emitted == limit {
				break
			}
			if err := fn(r); err != nil {
				return err
			}
			emitted++
		}
	}
	return nil
}

// readChunk returns the records of chunk j of index, newest first.
func (sc *scan) readChunk(ctx context.Context, marks []*audittrail.Cursor, j int) ([]*audittrail.Record, error) {
	var last *audittrail.Cursor
	if j+1 < len(marks) {
		last = marks[j+1]
	}
	recs := make([]*audittrail.Record, 0, chunk)
	err := sc.each(ctx, marks[j], func(r *audittrail.Record) error {
		if last != nil && older(r, last) {
			return errStop
		}
		recs = append(recs, r)
		if last != nil && r.Seq == last.Seq && r.Date.Equal(last.Date) {
			return errStop
		}
		return nil
	})
	return recs, err
}

// older reports whether r comes after c in the newest-first order.
func older(r *audittrail.Record, c *audittrail.Cursor) bool {
	return r.Date.Before(c.Date) || (r.Date.Equal(c.Date) && r.Seq < c.Seq)
}
