package export

import (
	"context"

	"github.com/audittrail/audittrail"
)

// Source is what an export reads records from; audittrail.Store is one.
type Source interface {
	CountRecords(ctx context.Context, f audittrail.RecordFilter) (int, error)
	IterateRecords(ctx context.Context, f audittrail.RecordFilter, fn func(*audittrail.Record) error) error
}

// flusher is an encoder that can push what it buffered to its writer.
type flusher interface{ Flush() error }

// flushEvery is how many records an export writes between two flushes.
const flushEvery = 500

// CheckSize refuses an Excel export of more than MaxXLSXRecords, before a
// byte of it is written.
func CheckSize(ctx context.Context, src Source, f audittrail.RecordFilter) error {
	n, err := src.CountRecords(ctx, f)
	if err != nil {
		return err
	}
	if n > MaxXLSXRecords {
		return TooLarge(n)
	}
	return nil
}

// Write encodes every record that f selects, newest first, and closes the
// encoder. When the encoder can flush, it flushes after the header and every
// flushEvery records, then calls flushed (to push the bytes to a network
// client, or to report progress); flushed may be nil. It returns the number
// of records written. A cancelled ctx (a client that went away) stops the
// query at once.
func Write(ctx context.Context, src Source, f audittrail.RecordFilter, enc Encoder, flushed func(n int)) (n int, err error) {
	flush := func() error {
		if fl, ok := enc.(flusher); ok {
			if err := fl.Flush(); err != nil {
				return err
			}
		}
		if flushed != nil {
			flushed(n)
		}
		return nil
	}
	if err := flush(); err != nil {
		return 0, err
	}
	err = src.IterateRecords(ctx, f, func(r *audittrail.Record) error {
		if err := enc.Encode(r); err != nil {
			return err
		}
		if n++; n%flushEvery == 0 {
			return flush()
		}
		return ctx.Err()
	})
	if err != nil {
		return n, err
	}
	return n, enc.Close()
}
