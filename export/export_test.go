package export_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
)

// sliceSource is an export.Source over records held in memory, in the
// order given (the store's newest-first order is its own business).
type sliceSource struct {
	recs     []*audittrail.Record
	count    int   // CountRecords answers this when not zero, else len(recs)
	countErr error // CountRecords fails with it
	iterErr  error // IterateRecords fails with it after the records
}

func (s *sliceSource) CountRecords(ctx context.Context, f audittrail.RecordFilter) (int, error) {
	if s.countErr != nil {
		return 0, s.countErr
	}
	if s.count != 0 {
		return s.count, nil
	}
	return len(s.recs), nil
}

func (s *sliceSource) IterateRecords(ctx context.Context, f audittrail.RecordFilter, fn func(*audittrail.Record) error) error {
	for _, r := range s.recs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return s.iterErr
}

// failWriter fails every write.
type failWriter struct{}

var errWrite = errors.New("disk full")

func (failWriter) Write(p []byte) (int, error) { return 0, errWrite }

func catalog(tb testing.TB) *audittrail.Catalog {
	tb.Helper()
	cat, err := audittrail.NewCatalog(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return cat
}

func newYork(tb testing.TB) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

// Known instants and their wall clocks in New York (EST in January, EDT in
// July), and the Excel serial numbers of those wall clocks, worked out by
// hand: 2026-01-01 is serial 46023.
var (
	winter       = time.Date(2026, 1, 15, 17, 4, 5, 250_000_000, time.UTC) // 12:04:05.250 EST
	winterWall   = "2026-01-15 12:04:05"
	winterSerial = 46037 + (12*3600+4*60+5.25)/86400.0
	summer       = time.Date(2026, 7, 4, 16, 0, 0, 0, time.UTC) // 12:00:00 EDT
	summerWall   = "2026-07-04 12:00:00"
	summerSerial = 46207.5
)

// sampleRecords are an add, an edit and a delete of users, with values that
// need quoting in CSV: commas, quotes, newlines, accents.
func sampleRecords() []*audittrail.Record {
	return []*audittrail.Record{
		{ID: "rec_1", Seq: 2, ObjectType: "users", ObjectID: "u-1", ObjectName: "Doe, Jane", ActionType: audittrail.ActionEdit,
			Element: "Member of", OldValue: "Sales, Support", NewValue: `say "hi"`, Date: summer,
			Originator: audittrail.Originator{ID: "o-1", Name: "Olivia Admin", LoginName: "olivia", Profiles: []string{"Administrator"}},
			ChangeID:   "chg_1", ReceivedAt: summer.Add(time.Second), Source: "platform"},
		{ID: "rec_0", Seq: 1, ObjectType: "users", ObjectID: "u-2", ObjectName: "Zoë Müller", ActionType: audittrail.ActionAdd,
			Element: "Profile", NewValue: "line one\nline two", Date: winter,
			Originator: audittrail.Originator{ID: "o-2", Name: "Émile Zola"}, Automatic: true,
			ChangeID: "chg_0", ReceivedAt: winter.Add(time.Second), Source: "platform"},
		{ID: "rec_2", Seq: 0, ObjectType: "skills", ObjectID: "s-1", ObjectName: "Billing", ActionType: audittrail.ActionDelete,
			Element: "Name", OldValue: "Billing", Date: winter,
			Originator: audittrail.Originator{ID: "o-1", Name: "Olivia Admin"},
			ChangeID:   "chg_2", ReceivedAt: winter.Add(time.Second), Source: "audittrail"},
	}
}

// injections are values that a spreadsheet would read as formulas.
var injections = []string{`=HYPERLINK("http://x","y")`, "+1", "-1", "@SUM(1)", "\t=1", "\r=1"}

// injectionRecords puts each injection in every text column of a record
// (the object type and the action too: an unknown key is shown as it is).
func injectionRecords() []*audittrail.Record {
	var rs []*audittrail.Record
	for i, v := range injections {
		rs = append(rs, &audittrail.Record{ID: "inj_" + string(rune('a'+i)), Seq: int64(i), ObjectType: v, ObjectID: v, ObjectName: v,
			ActionType: v, Element: v, OldValue: v, NewValue: v, Date: winter, Originator: audittrail.Originator{ID: v, Name: v},
			ChangeID: v, ReceivedAt: winter, Source: v})
	}
	return rs
}

// export runs export.Write of the records in format and returns the bytes.
func runExport(tb testing.TB, format string, recs []*audittrail.Record) []byte {
	tb.Helper()
	var buf bytes.Buffer
	enc, err := export.NewEncoder(format, &buf, catalog(tb), newYork(tb))
	if err != nil {
		tb.Fatal(err)
	}
	n, err := export.Write(context.Background(), &sliceSource{recs: recs}, audittrail.RecordFilter{AccountID: "acme"}, enc, nil)
	if err != nil {
		tb.Fatalf("Write: got %v, want nil", err)
	}
	if n != len(recs) {
		tb.Fatalf("Write: got %v records, want %v", n, len(recs))
	}
	return buf.Bytes()
}

// readCSV checks the byte order mark and reads the rows after it.
func readCSV(tb testing.TB, b []byte) [][]string {
	tb.Helper()
	rest, ok := bytes.CutPrefix(b, []byte("\ufeff"))
	if !ok {
		tb.Fatalf("first bytes: got %q, want the UTF-8 byte order mark EF BB BF", b[:min(len(b), 3)])
	}
	r := csv.NewReader(bytes.NewReader(rest))
	r.FieldsPerRecord = len(export.Columns)
	rows, err := r.ReadAll()
	if err != nil {
		tb.Fatalf("encoding/csv: got %v, want nil", err)
	}
	return rows
}

var wantHeader = []string{"Object Type", "Object Name", "Action Type", "Element", "Old Value", "New Value", "Date", "Originator"}

func TestColumns(t *testing.T) {
	if !slices.Equal(export.Columns, wantHeader) {
		t.Errorf("Columns: got %v, want %v", export.Columns, wantHeader)
	}
}

func TestCSV(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		b := runExport(t, export.FormatCSV, sampleRecords())
		rows := readCSV(t, b)
		want := [][]string{
			wantHeader,
			{"Users", "Doe, Jane", "Edit", "Member of", "Sales, Support", `say "hi"`, summerWall, "Olivia Admin"},
			{"Users", "Zoë Müller", "Add new", "Profile", "", "line one\nline two", winterWall, "Émile Zola"},
			{"Skills", "Billing", "Delete", "Name", "Billing", "", winterWall, "Olivia Admin"},
		}
		if len(rows) != len(want) {
			t.Fatalf("rows: got %v, want %v", len(rows), len(want))
		}
		for i := range want {
			if !slices.Equal(rows[i], want[i]) {
				t.Errorf("row %d: got %q, want %q", i, rows[i], want[i])
			}
		}
		// RFC 4180 on the wire: CRLF line ends, fields with commas, quotes
		// or line breaks enclosed in quotes, quotes doubled.
		for _, raw := range []string{
			"\ufeffObject Type,Object Name,Action Type,Element,Old Value,New Value,Date,Originator\n",
			`"Doe, Jane"`, `"Sales, Support"`, `"say ""hi"""`, "\"line one\nline two\"",
		} {
			if !bytes.Contains(b, []byte(raw)) {
				t.Errorf("raw CSV: got %q, want it to hold %q", b, raw)
			}
		}
	})

	t.Run("OKEmpty", func(t *testing.T) {
		rows := readCSV(t, runExport(t, export.FormatCSV, nil))
		if len(rows) != 1 || !slices.Equal(rows[0], wantHeader) {
			t.Errorf("rows: got %q, want only the header", rows)
		}
	})

	t.Run("OKInjection", func(t *testing.T) {
		rows := readCSV(t, runExport(t, export.FormatCSV, injectionRecords()))
		if len(rows) != 1+len(injections) {
			t.Fatalf("rows: got %v, want %v", len(rows), 1+len(injections))
		}
		for i, v := range injections {
			row := rows[i+1]
			for col, cell := range row {
				if col == 6 { // Date
					if cell != winterWall {
						t.Errorf("%q: Date: got %q, want %q", v, cell, winterWall)
					}
					continue
				}
				if want := "'" + v; cell != want {
					t.Errorf("%q: column %s: got %q, want %q", v, wantHeader[col], cell, want)
				}
			}
		}
	})

	t.Run("OKSafeValuesUnchanged", func(t *testing.T) {
		for _, v := range []string{"", "Jane", "a=1", "1+1", "e-mail", "x@y", "'quoted", "ab\t=1"} {
			if got := export.SafeCell(v); got != v {
				t.Errorf("SafeCell(%q): got %q, want %q", v, got, v)
			}
		}
		for _, v := range injections {
			if got := export.SafeCell(v); got != "'"+v {
				t.Errorf("SafeCell(%q): got %q, want %q", v, got, "'"+v)
			}
		}
	})

	t.Run("ErrWriter", func(t *testing.T) {
		enc, err := export.NewEncoder(export.FormatCSV, failWriter{}, catalog(t), newYork(t))
		if err == nil {
			_, err = export.Write(context.Background(), &sliceSource{recs: sampleRecords()}, audittrail.RecordFilter{}, enc, nil)
		}
		if !errors.Is(err, errWrite) {
			t.Errorf("error: got %v, want %v", err, errWrite)
		}
	})
}

func TestNDJSON(t *testing.T) {
	check := func(t *testing.T, recs []*audittrail.Record) {
		t.Helper()
		b := runExport(t, export.FormatNDJSON, recs)
		if !bytes.HasSuffix(b, []byte("\n")) {
			t.Errorf("last byte: got %q, want a newline", b[len(b)-1:])
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		i := 0
		for ; sc.Scan(); i++ {
			if i >= len(recs) {
				t.Fatalf("lines: got more than %v", len(recs))
			}
			api, err := json.Marshal(recs[i]) // the API's JSON of the record
			if err != nil {
				t.Fatal(err)
			}
			if got := sc.Text(); got != string(api) {
				t.Errorf("line %d: got %s, want %s", i, got, api)
			}
			var back audittrail.Record
			if err := json.Unmarshal(sc.Bytes(), &back); err != nil {
				t.Fatalf("line %d: got %v, want a record", i, err)
			}
			if back.ID != recs[i].ID || back.ObjectName != recs[i].ObjectName || back.NewValue != recs[i].NewValue ||
				back.OldValue != recs[i].OldValue || !back.Date.Equal(recs[i].Date) || back.Originator.Name != recs[i].Originator.Name {
				t.Errorf("line %d: got %+v, want %+v", i, back, *recs[i])
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		if i != len(recs) {
			t.Errorf("lines: got %v, want %v", i, len(recs))
		}
	}
	t.Run("OK", func(t *testing.T) { check(t, sampleRecords()) })
	// JSON stays raw: no quote prefix, no labels.
	t.Run("OKInjectionRaw", func(t *testing.T) { check(t, injectionRecords()) })
	t.Run("OKEmpty", func(t *testing.T) {
		if b := runExport(t, export.FormatNDJSON, nil); len(b) != 0 {
			t.Errorf("bytes: got %q, want none", b)
		}
	})
	t.Run("ErrWriter", func(t *testing.T) {
		enc, _ := export.NewEncoder(export.FormatNDJSON, failWriter{}, catalog(t), time.UTC)
		_, err := export.Write(context.Background(), &sliceSource{recs: sampleRecords()}, audittrail.RecordFilter{}, enc, nil)
		if !errors.Is(err, errWrite) {
			t.Errorf("error: got %v, want %v", err, errWrite)
		}
	})
}

// manyRecords returns n distinct records.
func manyRecords(n int) []*audittrail.Record {
	rs := make([]*audittrail.Record, n)
	for i := range rs {
		rs[i] = &audittrail.Record{ID: "r", Seq: int64(n - i), ObjectType: "users", ObjectName: "Jane", ActionType: "edit",
			Element: "Name", OldValue: "a", NewValue: "b", Date: winter, Originator: audittrail.Originator{Name: "O"}}
	}
	return rs
}

func TestWrite(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		var buf bytes.Buffer
		enc, _ := export.NewEncoder(export.FormatCSV, &buf, catalog(t), time.UTC)
		var flushes []int
		var sizes []int
		n, err := export.Write(context.Background(), &sliceSource{recs: manyRecords(1200)}, audittrail.RecordFilter{}, enc, func(n int) {
			flushes = append(flushes, n)
			sizes = append(sizes, buf.Len())
		})
		if err != nil || n != 1200 {
			t.Fatalf("Write: got %v, %v, want 1200, nil", n, err)
		}
		// Flushed after the header (so that a client gets the response at
		// once), then as it goes.
		if want := []int{0, 500, 1000}; !slices.Equal(flushes, want) {
			t.Errorf("flushed: got %v, want %v", flushes, want)
		}
		if len(sizes) > 0 && sizes[0] == 0 {
			t.Errorf("bytes at the first flush: got %v, want the header written", sizes[0])
		}
		if rows := readCSV(t, buf.Bytes()); len(rows) != 1201 {
			t.Errorf("rows: got %v, want %v", len(rows), 1201)
		}
	})

	t.Run("ErrCanceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		enc, _ := export.NewEncoder(export.FormatCSV, io.Discard, catalog(t), time.UTC)
		n, err := export.Write(ctx, &sliceSource{recs: manyRecords(10_000)}, audittrail.RecordFilter{}, enc, func(n int) {
			if n == 500 {
				cancel() // the client went away
			}
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error: got %v, want %v", err, context.Canceled)
		}
		if n > 501 {
			t.Errorf("records written after the cancel: got %v, want at most 501", n)
		}
	})

	t.Run("ErrSource", func(t *testing.T) {
		boom := errors.New("database is locked")
		var buf bytes.Buffer
		enc, _ := export.NewEncoder(export.FormatNDJSON, &buf, catalog(t), time.UTC)
		n, err := export.Write(context.Background(), &sliceSource{recs: manyRecords(3), iterErr: boom}, audittrail.RecordFilter{}, enc, nil)
		if !errors.Is(err, boom) {
			t.Errorf("error: got %v, want %v", err, boom)
		}
		// The records read before the failure are written all the same.
		if n != 3 {
			t.Errorf("records written: got %v, want %v", n, 3)
		}
	})

	t.Run("ErrSourcePanic", func(t *testing.T) {
		enc, _ := export.NewEncoder(export.FormatCSV, io.Discard, catalog(t), time.UTC)
		_, err := export.Write(context.Background(), panicSource{}, audittrail.RecordFilter{}, enc, nil)
		if err == nil || !strings.Contains(err.Error(), "panic") {
			t.Errorf("error: got %v, want the panic as an error", err)
		}
	})

	t.Run("ErrEncoderStopsReader", func(t *testing.T) {
		// The encoder fails while the reader is ahead of it: Write returns
		// the encoder's error once the reader has stopped.
		src := &trackedSource{sliceSource: sliceSource{recs: manyRecords(10_000)}, done: make(chan struct{})}
		n, err := export.Write(context.Background(), src, audittrail.RecordFilter{}, &failingEncoder{after: 700}, nil)
		if !errors.Is(err, errWrite) {
			t.Errorf("error: got %v, want %v", err, errWrite)
		}
		if n != 700 {
			t.Errorf("records written: got %v, want %v", n, 700)
		}
		select {
		case <-src.done:
		default:
			t.Errorf("IterateRecords: still running when Write returned")
		}
		if !errors.Is(src.err, context.Canceled) {
			t.Errorf("IterateRecords: got %v, want %v", src.err, context.Canceled)
		}
	})
}

// panicSource panics while it reads.
type panicSource struct{}

func (panicSource) CountRecords(ctx context.Context, f audittrail.RecordFilter) (int, error) {
	return 0, nil
}

func (panicSource) IterateRecords(ctx context.Context, f audittrail.RecordFilter, fn func(*audittrail.Record) error) error {
	panic("boom")
}

// trackedSource notes when and how its IterateRecords returned, and stops
// at a cancelled ctx as a store does.
type trackedSource struct {
	sliceSource
	done chan struct{}
	err  error
}

func (s *trackedSource) IterateRecords(ctx context.Context, f audittrail.RecordFilter, fn func(*audittrail.Record) error) error {
	defer close(s.done)
	s.err = s.sliceSource.IterateRecords(ctx, f, fn)
	return s.err
}

// failingEncoder fails every Encode after the first after.
type failingEncoder struct{ after, n int }

func (e *failingEncoder) Encode(r *audittrail.Record) error {
	if e.n == e.after {
		return errWrite
	}
	e.n++
	return nil
}

func (e *failingEncoder) Close() error { return nil }

func TestCheckSize(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		for _, n := range []int{0, 1, export.MaxXLSXRecords} {
			if n == 0 {
				if err := export.CheckSize(ctx, &sliceSource{}, audittrail.RecordFilter{}); err != nil {
					t.Errorf("CheckSize of 0: got %v, want nil", err)
				}
				continue
			}
			if err := export.CheckSize(ctx, &sliceSource{count: n}, audittrail.RecordFilter{}); err != nil {
				t.Errorf("CheckSize of %d: got %v, want nil", n, err)
			}
		}
		if export.MaxXLSXRecords != 100_000 {
			t.Errorf("MaxXLSXRecords: got %v, want %v", export.MaxXLSXRecords, 100_000)
		}
	})

	t.Run("ErrExportTooLarge", func(t *testing.T) {
		err := export.CheckSize(ctx, &sliceSource{count: 100_001}, audittrail.RecordFilter{})
		if code := audittrail.ErrorCode(err); code != audittrail.EEXPORTTOOLARGE {
			t.Fatalf("code: got %v, want %v", code, audittrail.EEXPORTTOOLARGE)
		}
		msg := audittrail.ErrorMessage(err)
		for _, want := range []string{"100001", "narrow", "timeframe", "CSV", "NDJSON"} {
			if !strings.Contains(msg, want) {
				t.Errorf("message: got %q, want it to hold %q", msg, want)
			}
		}
	})

	t.Run("ErrCount", func(t *testing.T) {
		boom := errors.New("database is locked")
		if err := export.CheckSize(ctx, &sliceSource{countErr: boom}, audittrail.RecordFilter{}); !errors.Is(err, boom) {
			t.Errorf("error: got %v, want %v", err, boom)
		}
	})
}

func TestNewEncoder(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for format, ct := range map[string]string{
			export.FormatXLSX:   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
			export.FormatCSV:    "text/csv; charset=utf-8",
			export.FormatNDJSON: "application/x-ndjson",
		} {
			if _, err := export.NewEncoder(format, io.Discard, catalog(t), time.UTC); err != nil {
				t.Errorf("NewEncoder(%q): got %v, want nil", format, err)
			}
			if got := export.ContentType(format); got != ct {
				t.Errorf("ContentType(%q): got %v, want %v", format, got, ct)
			}
		}
	})
	t.Run("ErrFormat", func(t *testing.T) {
		_, err := export.NewEncoder("pdf", io.Discard, catalog(t), time.UTC)
		if code := audittrail.ErrorCode(err); code != audittrail.EINVALIDPARAMETER {
			t.Errorf("code: got %v, want %v", code, audittrail.EINVALIDPARAMETER)
		}
	})
}

func TestFilename(t *testing.T) {
	loc := newYork(t)
	// 03:00 UTC is still the day before in New York.
	from := time.Date(2026, 1, 15, 3, 0, 0, 0, time.UTC)
	to := time.Date(2026, 2, 1, 4, 59, 59, 0, time.UTC)
	if got, want := export.Filename("acme", from, to, loc, "xlsx"), "audit-trail-acme-2026-01-14-2026-01-31.xlsx"; got != want {
		t.Errorf("Filename: got %v, want %v", got, want)
	}
	if got, want := export.Filename("acme", from, to, time.UTC, "csv"), "audit-trail-acme-2026-01-15-2026-02-01.csv"; got != want {
		t.Errorf("Filename: got %v, want %v", got, want)
	}
}

func TestExcelTime(t *testing.T) {
	loc := newYork(t)
	for _, c := range []struct {
		t    time.Time
		want float64
	}{
		{winter, winterSerial},
		{summer, summerSerial},
		// 1900-03-01 00:00 EST: serial 61, as Excel counts (after its
		// phantom 1900-02-29, the 1899-12-30 epoch agrees with it).
		{time.Date(1900, 3, 1, 5, 0, 0, 0, time.UTC), 61},
	} {
		got := export.ExcelTime(c.t, loc)
		if d := got - c.want; d > 1e-9 || d < -1e-9 {
			t.Errorf("ExcelTime(%v): got %v, want %v", c.t, got, c.want)
		}
	}
}

// TestSafeCellLooksPast checks that formula prefixing looks past what a
// spreadsheet skips or a reader cannot see, and knows full-width forms.
func TestSafeCellLooksPast(t *testing.T) {
	for _, s := range []string{"=1+1", " =1+1", "\n=1+1", "\u00a0=1+1", "\u200b=1+1", "\ufeff=1+1", "\"=1+1", "'=1+1", "\u202e=1+1",
		"＝1+1", "＋1", "－1", "＠SUM(A1)", "\t1", "\r1", "  -2+3", "@x"} {
		if got := export.SafeCell(s); !strings.HasPrefix(got, "'") || got[1:] != s {
			t.Errorf("SafeCell(%q) = %q, want it prefixed with '", s, got)
		}
	}
	for _, s := range []string{"", "Billing", " Billing", "a=1", "1-2", "E=mc2", "\u00a0x"} {
		if got := export.SafeCell(s); got != s {
			t.Errorf("SafeCell(%q) = %q, want it unchanged", s, got)
		}
	}
}
