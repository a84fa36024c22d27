package export_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
	"github.com/xuri/excelize/v2"
)

// unzip returns the parts of an xlsx package by name.
func unzip(tb testing.TB, b []byte) map[string][]byte {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		tb.Fatalf("zip: got %v, want an xlsx package", err)
	}
	parts := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		c, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			tb.Fatal(err)
		}
		parts[f.Name] = c
	}
	return parts
}

// The parts of xl/worksheets/sheet1.xml that the tests read.
type xSheet struct {
	Rows       []xRow `xml:"sheetData>row"`
	AutoFilter *struct {
		Ref string `xml:"ref,attr"`
	} `xml:"autoFilter"`
	Panes []struct {
		XSplit      string `xml:"xSplit,attr"`
		YSplit      string `xml:"ySplit,attr"`
		TopLeftCell string `xml:"topLeftCell,attr"`
		State       string `xml:"state,attr"`
	} `xml:"sheetViews>sheetView>pane"`
}

type xRow struct {
	R     int     `xml:"r,attr"`
	Cells []xCell `xml:"c"`
}

type xCell struct {
	R  string  `xml:"r,attr"`
	T  string  `xml:"t,attr"`
	S  string  `xml:"s,attr"`
	V  *string `xml:"v"`
	F  *string `xml:"f"`
	IS *struct {
		T string   `xml:"t"`
		R []string `xml:"r>t"` // rich text runs
	} `xml:"is"`
}

// text returns the string of an inline string cell.
func (c xCell) text() string {
	if c.IS == nil {
		return ""
	}
	return c.IS.T + strings.Join(c.IS.R, "")
}

// The parts of xl/styles.xml that the tests read.
type xStyles struct {
	NumFmts []struct {
		ID   int    `xml:"numFmtId,attr"`
		Code string `xml:"formatCode,attr"`
	} `xml:"numFmts>numFmt"`
	CellXfs []struct {
		NumFmtID int `xml:"numFmtId,attr"`
	} `xml:"cellXfs>xf"`
}

// isDateTimeStyle reports whether the cell style index s shows a date and a
// time: a built-in date-time format (22) or a custom one with a year, a day
// and hours.
func (st xStyles) isDateTimeStyle(s string) (bool, string) {
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 || i >= len(st.CellXfs) {
		return false, "no style " + s
	}
	id := st.CellXfs[i].NumFmtID
	if id == 22 {
		return true, "m/d/yy h:mm"
	}
	for _, f := range st.NumFmts {
		if f.ID == id {
			code := strings.ToLower(f.Code)
			return strings.Contains(code, "yy") && strings.Contains(code, "d") && strings.Contains(code, "h"), f.Code
		}
	}
	return false, "number format " + strconv.Itoa(id)
}

// xlsxPackage is an export read back by unzipping it.
type xlsxPackage struct {
	parts  map[string][]byte
	sheet  xSheet
	styles xStyles
}

func readPackage(tb testing.TB, b []byte) *xlsxPackage {
	tb.Helper()
	p := &xlsxPackage{parts: unzip(tb, b)}
	raw, ok := p.parts["xl/worksheets/sheet1.xml"]
	if !ok {
		tb.Fatalf("parts: got %v, want xl/worksheets/sheet1.xml", slices.Sorted(mapKeys(p.parts)))
	}
	if err := xml.Unmarshal(raw, &p.sheet); err != nil {
		tb.Fatalf("sheet1.xml: %v", err)
	}
	if err := xml.Unmarshal(p.parts["xl/styles.xml"], &p.styles); err != nil {
		tb.Fatalf("styles.xml: %v", err)
	}
	// No formula anywhere: no <f> element in any XML part.
	for name, c := range p.parts {
		if !strings.HasSuffix(name, ".xml") && !strings.HasSuffix(name, ".rels") {
			continue
		}
		d := xml.NewDecoder(bytes.NewReader(c))
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				tb.Fatalf("%s: %v", name, err)
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "f" {
				tb.Errorf("%s: got a formula element <f>, want none", name)
			}
		}
	}
	return p
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

var cellRef = regexp.MustCompile(`^([A-Z]+)([0-9]+)$`)

// checkCells checks every cell of the sheet XML: a date cell (column G below
// the header) is a number with a date-time style; every other cell is an
// inline string with no formula. It returns the rows as strings and the date
// serials, by row.
func (p *xlsxPackage) checkCells(tb testing.TB) (rows [][]string, dates []float64) {
	tb.Helper()
	for ri, row := range p.sheet.Rows {
		if row.R != ri+1 {
			tb.Errorf("row %d: got r=%v, want %v", ri+1, row.R, ri+1)
		}
		var cells []string
		date := math.NaN()
		for ci, c := range row.Cells {
			col := string(rune('A' + ci))
			if m := cellRef.FindStringSubmatch(c.R); c.R != "" && (m == nil || m[1] != col || m[2] != strconv.Itoa(ri+1)) {
				tb.Errorf("cell %s%d: got r=%q, want %s%d", col, ri+1, c.R, col, ri+1)
			}
			if c.F != nil {
				tb.Errorf("cell %s%d: got formula %q, want none", col, ri+1, *c.F)
			}
			if ri > 0 && col == "G" {
				if c.T != "" && c.T != "n" {
					tb.Errorf("date cell G%d: got t=%q, want a number", ri+1, c.T)
				}
				if c.V == nil {
					tb.Errorf("date cell G%d: got no value, want a serial number", ri+1)
				} else if v, err := strconv.ParseFloat(*c.V, 64); err != nil {
					tb.Errorf("date cell G%d: got %q, want a serial number", ri+1, *c.V)
				} else {
					date = v
				}
				if ok, code := p.styles.isDateTimeStyle(c.S); !ok {
					tb.Errorf("date cell G%d: got style %q (%s), want a date-time number format", ri+1, c.S, code)
				}
				cells = append(cells, "")
				continue
			}
			if c.T != "inlineStr" {
				tb.Errorf("cell %s%d: got t=%q, want inlineStr", col, ri+1, c.T)
			}
			if c.V != nil {
				tb.Errorf("cell %s%d: got a <v> %q, want the text in <is>", col, ri+1, *c.V)
			}
			cells = append(cells, c.text())
		}
		rows = append(rows, cells)
		dates = append(dates, date)
	}
	return rows, dates
}

func openXLSX(tb testing.TB, b []byte) *excelize.File {
	tb.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		tb.Fatalf("excelize.OpenReader: got %v, want nil", err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}

func TestXLSX(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		recs := sampleRecords()
		b := runExport(t, export.FormatXLSX, recs)

		// Read with excelize.
		f := openXLSX(t, b)
		if got, want := f.GetSheetList(), []string{"Audit trail"}; !slices.Equal(got, want) {
			t.Fatalf("sheets: got %v, want %v", got, want)
		}
		rows, err := f.GetRows("Audit trail")
		if err != nil {
			t.Fatal(err)
		}
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
			// GetRows drops trailing empty cells; none here end empty.
			if !slices.Equal(rows[i], want[i]) {
				t.Errorf("row %d: got %q, want %q", i+1, rows[i], want[i])
			}
		}
		for i, title := range wantHeader {
			cell, _ := excelize.CoordinatesToCellName(i+1, 1)
			id, err := f.GetCellStyle("Audit trail", cell)
			if err != nil {
				t.Fatal(err)
			}
			st, err := f.GetStyle(id)
			if err != nil {
				t.Fatal(err)
			}
			if st.Font == nil || !st.Font.Bold {
				t.Errorf("header %s (%s): got font %+v, want bold", cell, title, st.Font)
			}
			col, _ := excelize.ColumnNumberToName(i + 1)
			w, err := f.GetColWidth("Audit trail", col)
			if err != nil {
				t.Fatal(err)
			}
			if w < float64(len(title)) {
				t.Errorf("column %s (%s): got width %v, want at least %v", col, title, w, len(title))
			}
		}
		panes, err := f.GetPanes("Audit trail")
		if err != nil {
			t.Fatal(err)
		}
		if !panes.Freeze || panes.YSplit != 1 || panes.XSplit != 0 || panes.TopLeftCell != "A2" {
			t.Errorf("panes: got %+v, want the header row frozen (ySplit 1, top-left A2)", panes)
		}
		names := f.GetDefinedName()
		found := false
		for _, n := range names {
			found = found || (n.Name == "_xlnm._FilterDatabase" && strings.Contains(n.RefersTo, "$A$1:$H$4"))
		}
		if !found {
			t.Errorf("defined names: got %+v, want _xlnm._FilterDatabase of $A$1:$H$4 (the auto-filter)", names)
		}
		for i, wantWall := range []string{summerWall, winterWall, winterWall} {
			cell := "G" + strconv.Itoa(i+2)
			typ, err := f.GetCellType("Audit trail", cell)
			if err != nil {
				t.Fatal(err)
			}
			if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
				t.Errorf("%s: got cell type %v, want a number", cell, typ)
			}
			raw, err := f.GetCellValue("Audit trail", cell, excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			v, err := strconv.ParseFloat(raw, 64)
			if err != nil {
				t.Errorf("%s: got %q, want a serial number", cell, raw)
				continue
			}
			tm, err := excelize.ExcelDateToTime(v, false)
			if err != nil {
				t.Fatal(err)
			}
			if got := tm.Format("2006-01-02 15:04:05"); got != wantWall {
				t.Errorf("%s: got %v, want %v (the wall clock in New York)", cell, got, wantWall)
			}
		}

		// Read the sheet XML directly.
		p := readPackage(t, b)
		xrows, dates := p.checkCells(t)
		if len(xrows) != len(want) {
			t.Fatalf("sheet1.xml rows: got %v, want %v", len(xrows), len(want))
		}
		for i := range want {
			w := slices.Clone(want[i])
			if i > 0 {
				w[6] = "" // the date, checked as a number
			}
			if !slices.Equal(xrows[i], w) {
				t.Errorf("sheet1.xml row %d: got %q, want %q", i+1, xrows[i], w)
			}
		}
		for i, serial := range []float64{summerSerial, winterSerial, winterSerial} {
			if d := dates[i+1] - serial; math.IsNaN(d) || math.Abs(d) > 1e-8 {
				t.Errorf("G%d: got %v, want %v (the wall clock in New York as an Excel serial)", i+2, dates[i+1], serial)
			}
		}
		if p.sheet.AutoFilter == nil || strings.ReplaceAll(p.sheet.AutoFilter.Ref, "$", "") != "A1:H4" {
			t.Errorf("autoFilter: got %+v, want ref A1:H4", p.sheet.AutoFilter)
		}
		if len(p.sheet.Panes) != 1 || p.sheet.Panes[0].State != "frozen" || p.sheet.Panes[0].YSplit != "1" {
			t.Errorf("pane: got %+v, want frozen at ySplit 1", p.sheet.Panes)
		}
		// One sheet in the workbook.
		for name := range p.parts {
			if strings.HasPrefix(name, "xl/worksheets/") && strings.HasSuffix(name, ".xml") && name != "xl/worksheets/sheet1.xml" {
				t.Errorf("parts: got %s, want only sheet1.xml", name)
			}
		}
	})

	t.Run("OKInjection", func(t *testing.T) {
		b := runExport(t, export.FormatXLSX, injectionRecords())
		p := readPackage(t, b) // fails on any <f>
		xrows, dates := p.checkCells(t)
		if len(xrows) != 1+len(injections) {
			t.Fatalf("rows: got %v, want %v", len(xrows), 1+len(injections))
		}
		for i, v := range injections {
			for col, cell := range xrows[i+1] {
				if col == 6 {
					continue
				}
				// The value as given: an inline string is never evaluated,
				// so it needs no quote.
				if cell != v {
					t.Errorf("%q: column %s: got %q, want %q", v, wantHeader[col], cell, v)
				}
			}
			if d := dates[i+1] - winterSerial; math.Abs(d) > 1e-8 {
				t.Errorf("%q: date: got %v, want %v", v, dates[i+1], winterSerial)
			}
		}
		f := openXLSX(t, b)
		for i, v := range injections {
			for col := 1; col <= 8; col++ {
				if col == 7 {
					continue
				}
				cell, _ := excelize.CoordinatesToCellName(col, i+2)
				formula, err := f.GetCellFormula("Audit trail", cell)
				if err != nil || formula != "" {
					t.Errorf("%q: %s formula: got %q (%v), want none", v, cell, formula, err)
				}
				got, err := f.GetCellValue("Audit trail", cell)
				if err != nil || got != v {
					t.Errorf("%q: %s: got %q (%v), want %q", v, cell, got, err, v)
				}
			}
		}
	})

	t.Run("OKEmpty", func(t *testing.T) {
		b := runExport(t, export.FormatXLSX, nil)
		f := openXLSX(t, b)
		rows, err := f.GetRows("Audit trail")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || !slices.Equal(rows[0], wantHeader) {
			t.Errorf("rows: got %q, want only the header", rows)
		}
		p := readPackage(t, b)
		p.checkCells(t)
		if p.sheet.AutoFilter == nil {
			t.Errorf("autoFilter: got none, want one")
		}
	})

	t.Run("OKRowCount", func(t *testing.T) {
		const n = 2_345
		recs := manyRecords(n)
		for i, r := range recs {
			r.ObjectName = "Object " + strconv.Itoa(i)
		}
		b := runExport(t, export.FormatXLSX, recs)
		f := openXLSX(t, b)
		rows, err := f.GetRows("Audit trail")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != n+1 {
			t.Fatalf("rows: got %v, want %v", len(rows), n+1)
		}
		for i := 1; i <= n; i += 777 {
			if want := "Object " + strconv.Itoa(i-1); rows[i][1] != want {
				t.Errorf("row %d: got %q, want %q", i+1, rows[i][1], want)
			}
		}
		p := readPackage(t, b)
		if got := len(p.sheet.Rows); got != n+1 {
			t.Errorf("sheet1.xml rows: got %v, want %v", got, n+1)
		}
		if want := "A1:H" + strconv.Itoa(n+1); p.sheet.AutoFilter == nil || strings.ReplaceAll(p.sheet.AutoFilter.Ref, "$", "") != want {
			t.Errorf("autoFilter: got %+v, want ref %s", p.sheet.AutoFilter, want)
		}
	})

	t.Run("ErrWriter", func(t *testing.T) {
		enc, err := export.NewEncoder(export.FormatXLSX, failWriter{}, catalog(t), newYork(t))
		if err != nil {
			t.Fatal(err)
		}
		_, err = export.Write(context.Background(), &sliceSource{recs: sampleRecords()}, audittrail.RecordFilter{}, enc, nil)
		if !errors.Is(err, errWrite) {
			t.Errorf("error: got %v, want %v", err, errWrite)
		}
	})

	t.Run("ErrCanceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var buf bytes.Buffer
		enc, err := export.NewEncoder(export.FormatXLSX, &buf, catalog(t), time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		_, err = export.Write(ctx, &sliceSource{recs: sampleRecords()}, audittrail.RecordFilter{}, enc, nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error: got %v, want %v", err, context.Canceled)
		}
	})
}
