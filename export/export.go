package export

import (
	"fmt"
	"io"
	"time"

	"github.com/audittrail/audittrail"
)

// Encoder writes records in one format.
type Encoder interface {
	// Encode writes one record.
	Encode(r *audittrail.Record) error
	// Close flushes what is buffered and returns the first error of the
	// underlying writer.
	Close() error
}

// Formats of an export.
const (
	FormatXLSX   = "xlsx"
	FormatCSV    = "csv"
	FormatNDJSON = "ndjson"
)

// MaxXLSXRecords is the most records an Excel export holds (SPEC §6); CSV
// and NDJSON have no cap.
const MaxXLSXRecords = 100_000

// Columns are the column titles of the CSV and Excel exports (SPEC §2).
var Columns = []string{"Object Type", "Object Name", "Action Type", "Element", "Old Value", "New Value", "Date", "Originator"}

// ContentType returns the MIME type of a format.
func ContentType(format string) string {
	switch format {
	case FormatXLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case FormatCSV:
		return "text/csv; charset=utf-8"
	}
	return "application/x-ndjson"
}

// NewEncoder returns the encoder of format writing to w. Labels come from
// the catalog; dates are shown in loc.
func NewEncoder(format string, w io.Writer, cat *audittrail.Catalog, loc *time.Location) (Encoder, error) {
	switch format {
	case FormatCSV:
		return NewCSVEncoder(w, cat, loc)
	case FormatNDJSON:
		return NewNDJSONEncoder(w), nil
	case FormatXLSX:
		return NewXLSXEncoder(w, cat, loc)
	}
	return nil, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "format %q: use xlsx, csv or ndjson", format)
}

// Filename returns the name of an export file:
// audit-trail-{account}-{from}-{to}.{format}, dates as YYYY-MM-DD in loc.
func Filename(account string, from, to time.Time, loc *time.Location, format string) string {
	return fmt.Sprintf("audit-trail-%s-%s-%s.%s", account, from.In(loc).Format(time.DateOnly), to.In(loc).Format(time.DateOnly), format)
}

// TooLarge returns the EEXPORTTOOLARGE error of an Excel export of n records.
func TooLarge(n int) error {
	return audittrail.Errorf(audittrail.EEXPORTTOOLARGE,
		"the export holds %d records, more than the %d an Excel export can hold; narrow the timeframe or the filters, or use the CSV or NDJSON export (export.csv, export.ndjson), which have no limit",
		n, MaxXLSXRecords)
}

// row returns the cells of a record as people read them, in Columns order,
// the date excluded (each format writes it its own way).
func row(r *audittrail.Record, cat *audittrail.Catalog) [7]string {
	return [7]string{cat.Label(r.ObjectType), r.ObjectName, audittrail.ActionLabel(r.ActionType), r.Element, r.OldValue, r.NewValue, r.Originator.Name}
}
