package liveengage

import (
	"bufio"
	"encoding/csv"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
)

// Columns are the column titles of the export's Results table (SPEC §10).
var Columns = []string{"Object type", "Object ID", "Object name", "Action type", "Element", "Old value", "New value",
	"Date and time", "Originator", "Originator Employee ID", "Originator Profiles"}

// ExportDateFormat is how the export writes a record's date, in the
// requested time zone: yyyy-MM-ddTHH:mm:ss, as LiveEngage's example shows.
const ExportDateFormat = "2006-01-02T15:04:05"

// exportFlushEvery is how many rows the export writes between two flushes.
const exportFlushEvery = 500

// handleExport answers GET .../audit/export: the records of the filters as
// CSV, streamed.
func (h *Handler) handleExport(w http.ResponseWriter, r *http.Request) {
	if _, err := h.authorize(r); err != nil {
		h.writeError(w, r, err)
		return
	}
	p, limit, err := exportParams(r.URL.Query())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	now := h.Now()
	s, err := h.newSearch(r.PathValue("accountId"), p, now)
	var ae *argError
	if errors.As(err, &ae) {
		err = audittrail.Errorf(audittrail.EINVALIDPARAMETER, "%s", ae.Message)
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	release, err := h.Exports.Acquire(s.accountID)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	defer release()

	rc := http.NewResponseController(w)
	buf := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(buf)
	flush := func() error {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if err := buf.Flush(); err != nil {
			return err
		}
		rc.Flush()
		return nil
	}
	started, n := false, 0
	row := make([]string, len(Columns))
	err = newScan(h.store, s).stream(r.Context(), s.ascending, limit,
		func(total int) error {
			// Nothing is written before the count is known, so that a
			// failure up to here still answers a proper error.
			started = true
			name := export.Filename(s.accountID, s.from, s.end, s.loc, export.FormatCSV)
			w.Header().Set("Content-Type", export.ContentType(export.FormatCSV))
			w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("X-Total-Count", strconv.Itoa(total))
			w.WriteHeader(http.StatusOK)
			buf.WriteString("\ufeff") // so that Excel reads UTF-8
			for _, rec := range h.criteria(s, total) {
				cw.Write(rec)
			}
			cw.Write(Columns)
			return flush()
		},
		func(rec *audittrail.Record) error {
			h.exportRow(row, rec, s)
			if err := cw.Write(row); err != nil {
				return err
			}
			if n++; n%exportFlushEvery == 0 {
				return flush()
			}
			return r.Context().Err()
		})
	if err == nil {
		err = flush()
	}
	if err != nil {
		if !started {
			h.writeError(w, r, err)
			return
		}
		// The status line has gone out: all that is left is to cut the
		// connection, so that the client sees an incomplete download
		// rather than a file that looks whole.
		if r.Context().Err() == nil {
			h.logger.LogAttrs(r.Context(), slog.LevelError, "liveengage export failed", slog.String(logAccount, s.accountID), slog.Int(logRecords, n), slog.String(logError, err.Error()))
		}
		panic(http.ErrAbortHandler)
	}
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
		{s.accountID, s.from.In(s.loc).Format(DayFormat), s.end.In(s.loc).Format(DayFormat), export.SafeCell(types), export.SafeCell(users),
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
	row[0] = export.SafeCell(h.catalog.Label(r.ObjectType))
	row[1] = export.SafeCell(r.ObjectID)
	row[2] = export.SafeCell(r.ObjectName)
	row[3] = audittrail.ActionLabel(r.ActionType)
	row[4] = export.SafeCell(r.Element)
	row[5] = export.SafeCell(r.OldValue)
	row[6] = export.SafeCell(r.NewValue)
	row[7] = r.Date.In(s.loc).Format(ExportDateFormat)
	row[8] = export.SafeCell(o.Name)
	row[9] = export.SafeCell(o.EmployeeID)
	row[10] = "[" + strings.Join(o.Profiles, ", ") + "]"
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
			return p, 0, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "limit %q must be a whole number from 1 to %d", clip(v), MaxOffset)
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
		return false, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "%s %q must be true or false", name, clip(v))
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
