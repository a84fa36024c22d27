package liveengage

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
	"github.com/audittrail/audittrail/service"
)

// Columns are the column titles of the export's Results table (SPEC §10).
var Columns = []string{"Object type", "Object ID", "Object name", "Action type", "Element", "Old value", "New value",
	"Date and time", "Originator", "Originator Employee ID", "Originator Profiles"}

// ExportDateFormat is how the export writes a record's date, in the
// requested time zone: yyyy-MM-ddTHH:mm:ss, as LiveEngage's example shows.
const ExportDateFormat = "2006-01-02T15:04:05"

// exportFlushEvery is how many rows the export writes between two flushes.
const exportFlushEvery = 500

// Export is an export (GET .../audit/export) that has been checked: its
// arguments read, the caller authorized. Count, then WriteTo, stream it.
type Export struct {
	// Filename and ContentType are what the download is named and typed.
	Filename    string
	ContentType string

	h       *Handler
	p       *audittrail.Principal
	account string
	sc      *scan
	s       *search
	limit   int
	walk    *walk
}

// Export checks an export of the account for p from its query
// parameters. Returns EINVALIDPARAMETER for an accountId that cannot be an
// account id, then the service's refusals (ENOTFOUND, EFORBIDDEN), then
// EINVALIDPARAMETER for a bad parameter. The caller takes one of the
// account's export slots (service.AcquireExportSlot) before it counts.
func (h *Handler) Export(p *audittrail.Principal, accountID string, q url.Values) (*Export, error) {
	if err := authorize(p, accountID); err != nil {
		return nil, err
	}
	args, limit, err := exportParams(q)
	if err != nil {
		return nil, err
	}
	s, err := h.newSearch(accountID, args, h.svc.Now())
	var ae *argError
	if errors.As(err, &ae) {
		err = audittrail.Errorf(audittrail.EINVALIDPARAMETER, "%s", ae.Message)
	}
	if err != nil {
		return nil, err
	}
	return &Export{
		Filename:    export.Filename(s.accountID, s.from, s.end, s.loc, export.FormatCSV),
		ContentType: export.ContentType(export.FormatCSV),
		h:           h, p: p, account: accountID, s: s, limit: limit,
	}, nil
}

// Count returns the number of matching records (the Total Items block and
// X-Total-Count); nothing is written before it, so its error is still an
// answer. It is the export's logged read (service.Read): the access log
// has its entry, with the count of the rows it will hold, before a row
// goes out. An oldest-first export counts by walking its records once.
func (e *Export) Count(ctx context.Context) (total int, err error) {
	filters := service.GivenFilters(e.s.filter())
	err = e.h.svc.Read(ctx, e.p, e.account, audittrail.AccessLEExport, export.FormatCSV, filters, func(rd *service.Reader) (int, error) {
		e.sc = newScan(rd, e.s)
		w, err := e.sc.start(ctx, e.s.ascending)
		if err != nil {
			return 0, err
		}
		e.walk, total = w, w.total
		return min(total, e.limit), nil
	})
	return total, err
}

// WriteTo writes the CSV to w after Count: the Search Criteria and Total
// Items blocks, then the Results table of at most limit rows, calling
// flushed (which may be nil) after the blocks and every few hundred rows.
// It returns how many rows it wrote.
func (e *Export) WriteTo(ctx context.Context, w io.Writer, flushed func()) (int, error) {
	buf := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(buf)
	cw.UseCRLF = true // RFC 4180's line ends, inside quoted values too
	flush := func() error {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if err := buf.Flush(); err != nil {
			return err
		}
		if flushed != nil {
			flushed()
		}
		return nil
	}
	for _, rec := range e.h.criteria(e.s, e.walk.total) {
		cw.Write(rec)
	}
	cw.Write(Columns)
	if err := flush(); err != nil {
		return 0, err
	}
	n := 0
	row := make([]string, len(Columns))
	err := e.walk.run(ctx, 0, e.limit, func(rec *audittrail.Record) error {
		e.h.exportRow(row, rec, e.s)
		if err := cw.Write(row); err != nil {
			return err
		}
		if n++; n%exportFlushEvery == 0 {
			return flush()
		}
		return ctx.Err()
	})
	if err == nil {
		err = flush()
	}
	return n, err
}

// criteria returns the rows that come before the Results header: the
// Search Criteria block (what was asked, as applied), the Total Items block
// and the Results title, laid out as in LiveEngage's example.
func (h *Handler) criteria(s *search, total int) [][]string {
	types, users := "All", "All"
	if len(s.types) > 0 {
		var names []string
		for _, t := range s.types {
			names = append(names, t.ComponentType)
		}
		types = strings.Join(names, ",")
	}
	if len(s.users) > 0 {
		users = strings.Join(s.users, ",")
	}
	return [][]string{
		{"Search Criteria"},
		{"Account ID", "Start(" + s.zone + ")", "End(" + s.zone + ")", "Object types", "Originators", "Include Automatic Updates", "Include LPA Users"},
		{s.accountID, s.from.In(s.loc).Format(DayFormat), s.end.In(s.loc).Format(DayFormat), safeCell(types), safeCell(users),
			strconv.FormatBool(s.automatic), strconv.FormatBool(s.lpa)},
		{"Total Items"},
		{strconv.Itoa(total)},
		{"Results"},
	}
}

// exportRow fills row with the cells of a record, in Columns order, each
// made safe from spreadsheet formulas.
func (h *Handler) exportRow(row []string, r *audittrail.Record, s *search) {
	o := r.Originator
	row[0] = safeCell(h.svc.Catalog().Label(r.ObjectType))
	row[1] = safeCell(r.ObjectID)
	row[2] = safeCell(r.ObjectName)
	row[3] = audittrail.ActionLabel(r.ActionType)
	row[4] = safeCell(r.Element)
	row[5] = safeCell(r.OldValue)
	row[6] = safeCell(r.NewValue)
	row[7] = r.Date.In(s.loc).Format(ExportDateFormat)
	row[8] = safeCell(o.Name)
	row[9] = safeCell(o.EmployeeID)
	row[10] = "[" + strings.Join(o.Profiles, ", ") + "]"
}

// plainNumber matches a value that a spreadsheet reads as a number rather
// than a formula, though it may start with a sign: -1, +3, 1e5, -0.5.
var plainNumber = regexp.MustCompile(`^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$`)

// safeCell defuses a cell as export.SafeCell does, but for a plain number,
// which the LiveEngage export leaves as it is (SPEC §10).
func safeCell(s string) string {
	if plainNumber.MatchString(s) {
		return s
	}
	return export.SafeCell(s)
}

// exportParams reads the export's query parameters: the filters of the
// audit method, lists comma-separated or repeated, and limit. Parameters
// it does not know are ignored, as LiveEngage does.
func exportParams(q url.Values) (params, int, error) {
	p := defaultParams()
	p.fromDate, p.toDate = q.Get("fromDate"), q.Get("toDate")
	p.users = splitList(q["users"])
	p.componentTypes = splitList(q["componentTypes"])
	p.orderBy = splitList(q["orderBy"])
	p.orderDirection = splitList(q["orderDirection"])
	if v := q.Get("language"); v != "" {
		p.language = v
	}
	if v := q.Get("timezone"); v != "" {
		p.timezone = v
	}
	var err error
	if p.lpa, err = boolParam(q, "lpa"); err != nil {
		return p, 0, err
	}
	if p.automatic, err = boolParam(q, "automaticUpdates"); err != nil {
		return p, 0, err
	}
	limit := DefaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxOffset {
			return p, 0, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "limit %q must be a whole number from 1 to %d", audittrail.Clip(v), MaxOffset)
		}
		limit = n
	}
	return p, limit, nil
}

func boolParam(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "%s %q must be true or false", name, audittrail.Clip(v))
	}
	return b, nil
}

// splitList splits comma-separated values, dropping empty ones.
func splitList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}
