package benchkit

import (
	"context"
	"fmt"
	"time"

	"github.com/audittrail/audittrail"
)

// Appender is the store method Fill writes through.
type Appender interface {
	AppendRecords(ctx context.Context, accountID string, entries []audittrail.Entry) ([]*audittrail.Record, error)
}

// Fill appends n records of g to the account through the store, batch per
// AppendRecords call, dated from start to end in date order (as records
// arrive), every date distinct to the millisecond, so that a `from` can
// select exactly the newest k. It prints its progress every 10 seconds and
// at the end.
func Fill(ctx context.Context, db Appender, g *Gen, account, source string, n, batch int, start, end time.Time) error {
	step := end.Sub(start) / time.Duration(n)
	if step < 2*time.Millisecond {
		return fmt.Errorf("%d records from %s to %s: too many for distinct dates", n, start.Format(time.DateOnly), end.Format(time.DateOnly))
	}
	begin, last := time.Now(), time.Now()
	for done := 0; done < n; {
		k := min(batch, n-done)
		entries := make([]audittrail.Entry, k)
		for i := range entries {
			jitter := time.Duration(g.r.Int64N(int64(step - time.Millisecond)))
			date := start.Add(time.Duration(done+i) * step).Add(jitter)
			entries[i] = audittrail.Entry{Records: []*audittrail.Record{g.Item(time.Time{}).Record(account, source, date)}}
		}
		if _, err := db.AppendRecords(ctx, account, entries); err != nil {
			return err
		}
		done += k
		if time.Since(last) > 10*time.Second || done == n {
			last = time.Now()
			fmt.Printf("  fill: %s records in %s (%s)\n", Commas(int64(done)), time.Since(begin).Round(time.Second),
				Rate(float64(done)/time.Since(begin).Seconds(), "rec/s"))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}
