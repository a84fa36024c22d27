package export

import (
	"context"
	"fmt"

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

// batchSize is how many records the reader of an export hands the encoder
// at a time.
const batchSize = 128

// Write encodes every record that f selects, newest first, and closes the
// encoder. When the encoder can flush, it flushes after the header and every
// flushEvery records, then calls flushed (to push the bytes to a network
// client, or to report progress); flushed may be nil. It returns the number
// of records written. A cancelled ctx (a client that went away) stops the
// query at once.
//
// The records are read on a goroutine of their own, at most a batch ahead
// of the encoder, so that reading the next records (the store's work) and
// encoding these (the format's) run at the same time on two cores. Besides
// the page that the source holds, two batches are in memory at most: the one
// being encoded and the next.
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

	ctx, cancel := context.WithCancel(ctx)
	batches := make(chan []*audittrail.Record)
	readErr := make(chan error, 1)
	go func() {
		defer close(batches)
		readErr <- read(ctx, src, f, batches)
	}()
	defer func() {
		// Stop the reader, if it is still going, and wait for it.
		cancel()
		for range batches {
		}
	}()

	for batch := range batches {
		for _, r := range batch {
			if err := enc.Encode(r); err != nil {
				return n, err
			}
			if n++; n%flushEvery == 0 {
				if err := flush(); err != nil {
					return n, err
				}
			}
			if err := ctx.Err(); err != nil {
				return n, err
			}
		}
	}
	if err := <-readErr; err != nil {
		return n, err
	}
	return n, enc.Close()
}

// read sends the records that f selects to batches, batchSize at a time,
// until the source has no more, fails or ctx is done, and returns the
// source's error. A panic of the source is returned as an error, as it runs
// outside the request's goroutine.
func read(ctx context.Context, src Source, f audittrail.RecordFilter, batches chan<- []*audittrail.Record) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("export: panic reading records: %v", r)
		}
	}()
	batch := make([]*audittrail.Record, 0, batchSize)
	send := func() error {
		select {
		case batches <- batch:
			batch = make([]*audittrail.Record, 0, batchSize)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	err = src.IterateRecords(ctx, f, func(r *audittrail.Record) error {
		if batch = append(batch, r); len(batch) == batchSize {
			return send()
		}
		return nil
	})
	if len(batch) > 0 {
		// The records read before an error are written too, as they would
		// be without the goroutine.
		if serr := send(); err == nil {
			err = serr
		}
	}
	return err
}
