package export

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/audittrail/audittrail"
)

// AccessColumns are the column titles of the access log's CSV export.
var AccessColumns = []string{"Date", "Actor", "Actor Kind", "Actor ID", "Action", "Format", "Filters", "Records", "Status", "IP", "User Agent"}

// AccessCSVEncoder writes access log entries as CSV, as CSVEncoder writes
// records: a byte order mark, a header row, RFC 4180 quoting, dates in the
// account's time zone, no cell a formula.
type AccessCSVEncoder struct {
	buf *bufio.Writer
	w   *csv.Writer
	loc *time.Location
}

// NewAccessCSVEncoder writes the byte order mark and the header.
func NewAccessCSVEncoder(w io.Writer, loc *time.Location) (*AccessCSVEncoder, error) {
	buf := bufio.NewWriterSize(w, 32<<10)
	e := &AccessCSVEncoder{buf: buf, w: csv.NewWriter(buf), loc: loc}
	if _, err := buf.WriteString("\ufeff"); err != nil {
		return nil, err
	}
	return e, e.w.Write(AccessColumns)
}

// Encode writes one entry as a row.
func (e *AccessCSVEncoder) Encode(a *audittrail.AccessEntry) error {
	filters, err := json.Marshal(a.Filters)
	if err != nil {
		return err
	}
	return e.w.Write([]string{
		a.At.In(e.loc).Format(CSVDateFormat), SafeCell(a.Actor.Name), a.Actor.Kind, SafeCell(a.Actor.ID), a.Action, a.Format,
		SafeCell(string(filters)), strconv.Itoa(a.Records), strconv.Itoa(a.Status), SafeCell(a.IP), SafeCell(a.UserAgent),
	})
}

// Close flushes the rows.
func (e *AccessCSVEncoder) Close() error {
	e.w.Flush()
	if err := e.w.Error(); err != nil {
		return err
	}
	return e.buf.Flush()
}
