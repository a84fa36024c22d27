package liveengage

import (
	"context"
	"errors"
	"slices"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/service"
)

// chunk is how many records an ascending walk holds at a time.
const chunk = 500

// errStop ends a walk early; each does not return it.
var errStop = errors.New("liveengage: stop")

// scan reads the records of a search through a Reader of the service's
// logged read (service.Read): the service authorized it and clamps to the
// retention window, the store applies the filter.
type scan struct {
	rd *service.Reader
	f  audittrail.RecordFilter
}

func newScan(rd *service.Reader, s *search) *scan {
	return &scan{rd: rd, f: s.filter()}
}

// each calls fn with each matching record, newest first, starting after
// the cursor (nil: with the newest). fn returns errStop to end the walk.
func (sc *scan) each(ctx context.Context, after *audittrail.Cursor, fn func(*audittrail.Record) error) error {
	f := sc.f
	f.After = after
	err := sc.rd.IterateRecords(ctx, f, fn)
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// walk is a counted walk of the matching records in one direction.
type walk struct {
	sc        *scan
	ascending bool
	total     int
	marks     []*audittrail.Cursor // ascending only: see index
}

// start counts the matching records: the store counts a newest-first
// walk; an oldest-first one is counted by index, which marks its chunks.
func (sc *scan) start(ctx context.Context, ascending bool) (*walk, error) {
	w := &walk{sc: sc, ascending: ascending}
	var err error
	if ascending {
		w.total, w.marks, err = sc.index(ctx)
	} else {
		w.total, err = sc.rd.CountRecords(ctx, sc.f)
	}
	return w, err
}

// run calls fn with at most limit records from position skip of the walk's
// order.
func (w *walk) run(ctx context.Context, skip, limit int, fn func(*audittrail.Record) error) error {
	if limit == 0 || skip >= w.total {
		return nil
	}
	if w.ascending {
		return w.sc.ascending(ctx, w.total, w.marks, skip, limit, fn)
	}
	i, n := 0, 0
	return w.sc.each(ctx, nil, func(r *audittrail.Record) error {
		if i++; i <= skip {
			return nil
		}
		if err := fn(r); err != nil {
			return err
		}
		if n++; n == limit {
			return errStop
		}
		return nil
	})
}

// page returns the number of matching records and the first records from
// position offset, newest first, or oldest first when ascending.
func (sc *scan) page(ctx context.Context, ascending bool, offset, first int) (total int, recs []*audittrail.Record, err error) {
	w, err := sc.start(ctx, ascending)
	if err != nil {
		return 0, nil, err
	}
	err = w.run(ctx, offset, first, func(r *audittrail.Record) error {
		recs = append(recs, r)
		return nil
	})
	return w.total, recs, err
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
