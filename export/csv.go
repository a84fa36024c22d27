package export

import (
	"bufio"
	"encoding/csv"
	"io"
	"time"
	"unicode"

	"github.com/audittrail/audittrail"
)

// CSVEncoder writes records as CSV (RFC 4180 quoting) with a UTF-8 byte
// order mark, so that Excel reads accents, and a header row of the column
// titles. Lines end with LF: with CRLF line ends, encoding/csv drops a
// carriage return inside a value, and an audit export must not alter one.
type CSVEncoder struct {
	buf *bufio.Writer
	w   *csv.Writer
	cat *audittrail.Catalog
	loc *time.Location
	rec []string
}

// CSVDateFormat is how CSV dates are written, in the account's time zone.
const CSVDateFormat = "2006-01-02 15:04:05"

// NewCSVEncoder writes the byte order mark and the header.
func NewCSVEncoder(w io.Writer, cat *audittrail.Catalog, loc *time.Location) (*CSVEncoder, error) {
	buf := bufio.NewWriterSize(w, 64<<10)
	e := &CSVEncoder{buf: buf, w: csv.NewWriter(buf), cat: cat, loc: loc, rec: make([]string, len(Columns))}
	if _, err := buf.WriteString("\ufeff"); err != nil {
		return nil, err
	}
	if err := e.w.Write(Columns); err != nil {
		return nil, err
	}
	return e, nil
}

// Encode writes one record as a row.
func (e *CSVEncoder) Encode(r *audittrail.Record) error {
	cells := row(r, e.cat)
	for i, c := range cells[:6] {
		e.rec[i] = SafeCell(c)
	}
	e.rec[6] = r.Date.In(e.loc).Format(CSVDateFormat)
	e.rec[7] = SafeCell(cells[6])
	return e.w.Write(e.rec)
}

// Close flushes the rows.
func (e *CSVEncoder) Close() error { return e.Flush() }

// SafeCell defuses a value that a spreadsheet would read as a formula: one
// whose first visible character is =, +, -, @ (or their full-width forms
// ＝ ＋ － ＠), or that starts with a tab or a carriage return, gets a
// leading single quote. "Visible" looks past what a spreadsheet skips or a
// reader cannot see: leading white space of any kind (NBSP too), line
// breaks, quotes, and invisible format characters (zero-width spaces, the
// byte order mark, bidi marks).
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	if s[0] == '\t' || s[0] == '\r' {
		return "'" + s
	}
	for _, r := range s {
		switch {
		case r == '=' || r == '+' || r == '-' || r == '@' || r == '＝' || r == '＋' || r == '－' || r == '＠':
			return "'" + s
		case unicode.IsSpace(r) || r == '"' || r == '\'' || unicode.Is(unicode.Cf, r):
			continue // looked past
		}
		return s
	}
	return s
}

// Flush pushes the rows written so far to the writer.
func (e *CSVEncoder) Flush() error {
	e.w.Flush()
	if err := e.w.Error(); err != nil {
		return err
	}
	return e.buf.Flush()
}
