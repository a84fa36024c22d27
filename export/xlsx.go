package export

import (
	"io"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/xuri/excelize/v2"
)

// SheetName is the one sheet of an Excel export.
const SheetName = "Audit trail"

// XLSXDateFormat is the number format of the Date column.
const XLSXDateFormat = "yyyy-mm-dd hh:mm:ss"

// XLSXEncoder writes records to one sheet through excelize's StreamWriter:
// rows go to a temporary file as they come, and Close writes the workbook to
// the writer. The header is bold, frozen and carries an auto-filter; dates
// are real date-time cells in the account's time zone; every other value is
// an inline string cell, so nothing is ever evaluated as a formula.
type XLSXEncoder struct {
	w         io.Writer
	f         *excelize.File
	sw        *excelize.StreamWriter
	cat       *audittrail.Catalog
	loc       *time.Location
	dateStyle int
	rows      int
	cells     []any
}

// columnWidths fit typical values of each column.
var columnWidths = []float64{22, 30, 12, 24, 40, 40, 20, 24}

// NewXLSXEncoder sets up the sheet and writes the header.
func NewXLSXEncoder(w io.Writer, cat *audittrail.Catalog, loc *time.Location) (*XLSXEncoder, error) {
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", SheetName); err != nil {
		return nil, err
	}
	e := &XLSXEncoder{w: w, f: f, cat: cat, loc: loc, cells: make([]any, len(Columns))}
	var err error
	if e.dateStyle, err = f.NewStyle(&excelize.Style{CustomNumFmt: ptr(XLSXDateFormat)}); err != nil {
		return nil, err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, err
	}
	if e.sw, err = f.NewStreamWriter(SheetName); err != nil {
		return nil, err
	}
	for i, width := range columnWidths {
		if err := e.sw.SetColWidth(i+1, i+1, width); err != nil {
			return nil, err
		}
	}
	if err := e.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	header := make([]any, len(Columns))
	for i, c := range Columns {
		header[i] = excelize.Cell{StyleID: bold, Value: c}
	}
	if err := e.sw.SetRow("A1", header, excelize.RowOpts{StyleID: bold}); err != nil {
		return nil, err
	}
	e.rows = 1
	return e, nil
}

// Encode writes one record as a row.
func (e *XLSXEncoder) Encode(r *audittrail.Record) error {
	cells := row(r, e.cat)
	for i, c := range cells[:6] {
		e.cells[i] = c
	}
	e.cells[6] = excelize.Cell{StyleID: e.dateStyle, Value: ExcelTime(r.Date, e.loc)}
	e.cells[7] = cells[6]
	e.rows++
	cell, err := excelize.CoordinatesToCellName(1, e.rows)
	if err != nil {
		return err
	}
	return e.sw.SetRow(cell, e.cells)
}

// Close adds the auto-filter over the rows written, ends the sheet and
// writes the workbook.
func (e *XLSXEncoder) Close() error {
	defer e.f.Close()
	last, err := excelize.CoordinatesToCellName(len(Columns), max(e.rows, 2))
	if err != nil {
		return err
	}
	if err := e.f.AutoFilter(SheetName, "A1:"+last, nil); err != nil {
		return err
	}
	if err := e.sw.Flush(); err != nil {
		return err
	}
	_, err = e.f.WriteTo(e.w)
	return err
}

// ExcelTime returns t as an Excel date-time serial number (days since
// 1899-12-30) of its wall clock in loc: Excel date-times have no zone, so
// the account's zone is applied here.
func ExcelTime(t time.Time, loc *time.Location) float64 {
	wall := t.In(loc)
	asUTC := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), time.UTC)
	return float64(asUTC.UnixMilli())/86_400_000 + 25569
}

func ptr[T any](v T) *T { return &v }
