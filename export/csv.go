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
// that starts with a tab or a carriage return, or whose first visible
// character is =, +, - or @ (or a form of them that NFKC normalizes alike:
// full-width ＝ ＋ － ＠, small ﹦ ﹢ ﹣ ﹫, super- and subscripts, or the
// minus sign −) gets a leading single quote. Looking for
// the first visible character passes over what a spreadsheet may drop or
// not show before it reads a formula: white space (Unicode White_Space:
// spaces, line breaks, the no-break space), control and format characters
// (zero-width space, word joiner, byte order mark, bidi controls, soft
// hyphen), other default-ignorable characters and quotes (' " and their
// typographic and full-width forms). So " =1+1", "\n=1+1", "\u00a0=1",
// "\u200b=1", "\ufeff=1", "\"=1" and "＝1+1" are all prefixed.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	if s[0] == '\t' || s[0] == '\r' {
		return "'" + s
	}
	for _, r := range s {
		switch {
		case isFormulaStart(r):
			return "'" + s
		case isInvisibleOrQuote(r):
			continue
		}
		return s
	}
	return s
}

// isFormulaStart reports whether r starts a formula: = + - @ and every
// character that NFKC normalizes to one of them or to the minus sign.
func isFormulaStart(r rune) bool {
	switch r {
	case '=', '+', '-', '@',
		'\uff1d', '\uff0b', '\uff0d', '\uff20', // full-width ＝ ＋ － ＠
		'\ufe66', '\ufe62', '\ufe63', '\ufe6b', // small ﹦ ﹢ ﹣ ﹫
		'\u207c', '\u207a', '\u207b', '\u208c', '\u208a', '\u208b', // super- and subscript ⁼ ⁺ ⁻ ₌ ₊ ₋
		'\ufb29', '\u2212': // Hebrew alternative plus ﬩, minus sign −
		return true
	}
	return false
}

// isInvisibleOrQuote reports whether SafeCell looks past r for the first
// visible character.
func isInvisibleOrQuote(r rune) bool {
	switch r {
	case '\'', '"', '\u2018', '\u2019', '\u201a', '\u201b', '\u201c', '\u201d', '\u201e', '\u201f', '\uff02', '\uff07':
		return true
	}
	return unicode.IsSpace(r) || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
}

// Flush pushes the rows written so far to the writer.
func (e *CSVEncoder) Flush() error {
	e.w.Flush()
	if err := e.w.Error(); err != nil {
		return err
	}
	return e.buf.Flush()
}
