package export_test

import (
	"bytes"
	"context"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
)

// syntheticSource stands in for the store: it makes n records on the fly,
// a new one for each call of fn, as a store reading rows would, and samples
// the heap every sampleEvery records.
type syntheticSource struct {
	n           int
	sampleEvery int
	sample      func(i int)
}

func (s *syntheticSource) CountRecords(ctx context.Context, f audittrail.RecordFilter) (int, error) {
	return s.n, nil
}

func (s *syntheticSource) IterateRecords(ctx context.Context, f audittrail.RecordFilter, fn func(*audittrail.Record) error) error {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	old := strings.Repeat("Sales, Support, Billing; ", 4)
	for i := range s.n {
		if i%s.sampleEvery == 0 {
			s.sample(i)
		}
		id := strconv.Itoa(i)
		r := &audittrail.Record{
			ID: "rec_" + id, Seq: int64(s.n - i), ObjectType: "users", ObjectID: "u-" + id,
			ObjectName: "User number " + id, ActionType: audittrail.ActionEdit, Element: "Member of",
			OldValue: old + id, NewValue: old + "Support " + id, Date: start.Add(-time.Duration(i) * time.Second),
			Originator: audittrail.Originator{ID: "o-1", Name: "Olivia \"Ops\" Admin"}, ChangeID: "chg_" + id,
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// countingWriter discards what is written, as io.Discard does, counting
// the bytes and the lines.
type countingWriter struct {
	bytes, lines int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.bytes += int64(len(p))
	w.lines += int64(bytes.Count(p, []byte("\n")))
	return len(p), nil
}

// TestCSVMemory exports 1,000,000 records as CSV and checks that the heap
// stays flat: its growth over the export stays under a bound far below the
// size of the output, which an export built in memory would break.
func TestCSVMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("a million records; skipped with -short")
	}
	const (
		n           = 1_000_000
		sampleEvery = 10_000
		bound       = 32 << 20 // bytes of heap growth
	)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak uint64
	samples := 0
	src := &syntheticSource{n: n, sampleEvery: sampleEvery, sample: func(int) {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		samples++
	}}

	out := &countingWriter{}
	enc, err := export.NewEncoder(export.FormatCSV, out, catalog(t), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, err := export.Write(context.Background(), src, audittrail.RecordFilter{AccountID: "acme"}, enc, nil)
	if err != nil {
		t.Fatalf("Write: got %v, want nil", err)
	}
	runtime.ReadMemStats(&ms)
	peak = max(peak, ms.HeapInuse)
	elapsed := time.Since(start)

	if got != n {
		t.Errorf("records: got %v, want %v", got, n)
	}
	if out.lines != n+1 {
		t.Errorf("lines: got %v, want %v", out.lines, n+1)
	}
	if samples != n/sampleEvery {
		t.Errorf("samples: got %v, want %v", samples, n/sampleEvery)
	}
	growth := int64(peak) - int64(base)
	t.Logf("%d records, %d MiB of CSV in %v; heap in use: base %d KiB, peak %d KiB, growth %d KiB",
		n, out.bytes>>20, elapsed.Round(time.Millisecond), base>>10, peak>>10, growth>>10)
	if out.bytes < 8*bound {
		t.Fatalf("output: got %d bytes, want far more than the bound %d (else the test proves nothing)", out.bytes, bound)
	}
	if growth > bound {
		t.Errorf("peak heap growth: got %v bytes, want at most %v (the export must stream)", growth, bound)
	}
}
