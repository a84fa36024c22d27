package ui

import (
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
	athttp "github.com/audittrail/audittrail/http"
	"github.com/audittrail/audittrail/service"
)

// auditTrailPage is the data of the audit trail page.
type auditTrailPage struct {
	F           filters
	Timeframes  []option
	Types       []option
	Actions     []option
	From, To    string // the custom range's date inputs
	Chips       []chip
	Zone        string
	Kept        string // how long records are kept: "13 months"
	RangeLabel  string
	RangePhrase string
	Narrowed    bool

	Originators []string // names the originator field suggests: the account's users

	Rows       []recordRow
	Count      int
	CountKnown bool
	FirstURL   string // the first page, when this one is not
	NextURL    string
	ExportURL  string
	CSVURL     string
	ClearURL   string
	LongerURL  string // the same filters over the last 13 months

	Empty       string // why there are no rows: off, filters, timeframe, end
	TrailOff    bool   // the account's audit trail is off now
	FilterError string
	ExportError string
	TooLarge    bool
}

// option is an option of a select.
type option struct {
	Value    string
	Label    string
	Selected bool
}

// chip is a filter set by a link (element, object name, object id), shown
// with a link that removes it.
type chip struct {
	Name      string // the filter's name in the URL
	Label     string
	Value     string
	RemoveURL string
}

// recordRow is one record as the table shows it.
type recordRow struct {
	R         *audittrail.Record
	TypeLabel string
	Date      string // in the account's zone
	DateUTC   string
	DateISO   string
	Open      bool
	ToggleURL string
	OldHTML   template.HTML
	NewHTML   template.HTML
	ObjectURL string // all changes to the object
	ByURL     string // all changes by the originator
	Received  string
}

func (h *Handler) handleAuditTrail(w http.ResponseWriter, r *http.Request, s *session) {
	f := parseFilters(r.URL.Query())
	// Keep one address per view: lists comma-separated, empty fields out.
	if canon := f.values().Encode(); canon != r.URL.RawQuery {
		http.Redirect(w, r, f.url("/audit-trail"), http.StatusSeeOther)
		return
	}
	h.renderAuditTrail(w, r, s, f, nil)
}

// handleExport answers the Excel (or, with format=csv, CSV) export of the
// page's filters, streamed as it is written; or, if the service refuses it
// (too large, busy), the page with the service's message.
func (h *Handler) handleExport(w http.ResponseWriter, r *http.Request, s *session) {
	f := parseFilters(r.URL.Query()).firstPage()
	format := export.FormatXLSX
	if r.URL.Query().Get("format") == "csv" {
		format = export.FormatCSV
	}
	rf, err := h.recordFilter(f, s, false)
	var fe *filterError
	if errors.As(err, &fe) {
		h.renderAuditTrail(w, r, s, f, nil) // the page says what is wrong with the filters
		return
	}
	var exp *service.Export
	if err == nil {
		exp, err = h.svc.OpenExport(r.Context(), s.Principal, rf, format)
	}
	if audittrail.ErrorCode(err) == audittrail.EINTERNAL {
		h.fail(w, r, err)
		return
	} else if err != nil {
		h.renderAuditTrail(w, r, s, f, err)
		return
	}
	defer exp.Close()
	d := &download{w: w, exp: exp}
	d.body = export.NewIdleWriter(w, http.NewResponseController(w), exp.IdleTimeout)
	n, err := exp.WriteTo(r.Context(), d, func(int) {
		if d.started {
			d.body.Flush()
		}
	})
	if err == nil && d.started {
		err = d.body.Close()
	}
	if err == nil {
		return
	} else if !d.started {
		h.fail(w, r, err)
		return
	}
	if d.body.TimedOut() {
		h.logger.LogAttrs(r.Context(), slog.LevelWarn, "ui export dropped: the browser read nothing for the idle timeout", slog.String(logPath, r.URL.Path),
			slog.Int("records", n), slog.String("idle_timeout", d.body.Idle().String()))
	} else if r.Context().Err() == nil { // not a browser that went away
		h.logger.LogAttrs(r.Context(), slog.LevelError, "ui export failed", slog.String(logPath, r.URL.Path), slog.Int("records", n), slog.String(logError, err.Error()))
	}
	// The status line has gone out: cut the connection, so that the browser
	// sees an incomplete download rather than a file that looks whole.
	panic(http.ErrAbortHandler)
}

// download is the response of an export: its headers go out with its
// first byte, so that a failure before it can still answer a page.
type download struct {
	w       http.ResponseWriter
	body    *export.IdleWriter // w's body, under the export's idle deadline
	exp     *service.Export
	started bool
}

func (d *download) Write(b []byte) (int, error) {
	if !d.started {
		d.started = true
		athttp.SetDownloadHeaders(d.w, d.exp.ContentType, d.exp.Filename)
		d.w.WriteHeader(http.StatusOK)
	}
	return d.body.Write(b)
}

// recordFilter resolves the page's filters at the service's clock and
// parses them as the API's query (service.ParseFilter), with the page
// position when paged. A filter the page cannot use is a *filterError; one
// the service refuses is its *audittrail.Error.
func (h *Handler) recordFilter(f filters, s *session, paged bool) (audittrail.RecordFilter, error) {
	q, err := f.apiQuery(s.Loc, h.svc.Now())
	if err != nil {
		return audittrail.RecordFilter{}, err
	}
	if paged {
		q.Set("limit", strconv.Itoa(PageSize))
		if f.Cursor != "" {
			q.Set("cursor", f.Cursor)
		}
	}
	return service.ParseFilter(q, s.Account.ID, paged)
}

// renderAuditTrail draws the page of the filters; exportErr is the
// service's refusal of an export, shown beside the export button.
func (h *Handler) renderAuditTrail(w http.ResponseWriter, r *http.Request, s *session, f filters, exportErr error) {
	status := http.StatusOK
	p := &auditTrailPage{
		F:           f,
		Zone:        s.Account.Timezone,
		Kept:        retentionLabel(h.svc.Config().Retention),
		RangeLabel:  f.rangeLabel(s.Loc),
		RangePhrase: f.rangePhrase(s.Loc),
		Narrowed:    f.narrowed(),
		From:        dateInput(f.From, s.Loc),
		To:          dateInput(f.To, s.Loc),
		TrailOff:    !s.Account.AuditTrailEnabled,
		ExportURL:   f.firstPage().url("/audit-trail/export"),
		ClearURL:    f.cleared().url("/audit-trail"),
	}
	csv := f.firstPage().values()
	csv.Set("format", "csv")
	p.CSVURL = "/audit-trail/export?" + csv.Encode()
	if f.Timeframe != "13mo" {
		longer := f.firstPage()
		longer.Timeframe, longer.From, longer.To = "13mo", "", ""
		p.LongerURL = longer.url("/audit-trail")
	}
	if f.Cursor != "" {
		p.FirstURL = f.firstPage().url("/audit-trail")
	}
	h.filterOptions(p, f)
	h.chips(p, f)
	if exportErr != nil {
		status = errorStatus(exportErr)
		p.ExportError = sentence(audittrail.ErrorMessage(exportErr))
		p.TooLarge = audittrail.ErrorCode(exportErr) == audittrail.EEXPORTTOOLARGE
	}

	rf, err := h.recordFilter(f, s, true)
	var fe *filterError
	if errors.As(err, &fe) {
		p.FilterError = fe.msg
		h.renderAuditTrailPage(w, r, s, http.StatusBadRequest, p)
		return
	}
	var page *service.Page
	if err == nil {
		page, err = h.svc.FindRecords(r.Context(), s.Principal, rf)
	}
	switch code := audittrail.ErrorCode(err); code {
	case "":
	case audittrail.EINTERNAL:
		h.fail(w, r, err)
		return
	case audittrail.EFORBIDDEN:
		h.forbidden(w, r, s, forbiddenAuditTrail)
		return
	default:
		p.FilterError = sentence(audittrail.ErrorMessage(err))
		h.renderAuditTrailPage(w, r, s, errorStatus(err), p)
		return
	}
	if n, err := h.svc.CountRecords(r.Context(), s.Principal, rf); err == nil {
		p.Count, p.CountKnown = n, true
	}
	if users, err := h.svc.FindUsers(r.Context(), s.Principal, s.Account.ID); err == nil {
		for _, u := range users {
			p.Originators = append(p.Originators, u.Name)
		}
		slices.Sort(p.Originators)
		p.Originators = slices.Compact(p.Originators)
	}

	for _, rec := range page.Records {
		p.Rows = append(p.Rows, h.row(rec, f, s.Loc))
	}
	if page.Next != nil {
		next := f.firstPage()
		next.Cursor = page.Next.String()
		p.NextURL = next.url("/audit-trail")
	}
	if len(p.Rows) == 0 {
		switch {
		case f.Cursor != "":
			p.Empty = "end"
		case s.Account.AuditTrailEnabledAt == nil:
			p.Empty = "off"
		case f.narrowed():
			p.Empty = "filters"
		default:
			p.Empty = "timeframe"
		}
	}
	h.renderAuditTrailPage(w, r, s, status, p)
}

func (h *Handler) renderAuditTrailPage(w http.ResponseWriter, r *http.Request, s *session, status int, p *auditTrailPage) {
	v := h.newView(s, "Audit trail", "audit-trail")
	v.Page = p
	h.render(w, r, status, "audit_trail", v)
}

// row prepares a record for the table, dates in loc.
func (h *Handler) row(rec *audittrail.Record, f filters, loc *time.Location) recordRow {
	row := recordRow{
		R:         rec,
		TypeLabel: h.catalog.Label(rec.ObjectType),
		Date:      rec.Date.In(loc).Format("2006-01-02 15:04:05"),
		DateUTC:   rec.Date.UTC().Format("2006-01-02 15:04:05.000") + " UTC",
		DateISO:   audittrail.FormatTime(rec.Date),
		Open:      f.Open == rec.ID,
	}
	if !rec.ReceivedAt.IsZero() {
		row.Received = rec.ReceivedAt.In(loc).Format("2006-01-02 15:04:05")
	}
	toggle := f
	toggle.Open = rec.ID
	if row.Open {
		toggle.Open = ""
	}
	row.ToggleURL = toggle.url("/audit-trail") + "#r-" + rec.ID
	row.OldHTML, row.NewHTML = diffHTML(rec.OldValue, rec.NewValue)
	row.ObjectURL = filters{Timeframe: "13mo", ObjectTypes: []string{rec.ObjectType}, ObjectID: rec.ObjectID}.url("/audit-trail")
	if rec.Originator.Name != "" {
		row.ByURL = filters{Timeframe: "13mo", Originator: rec.Originator.Name}.url("/audit-trail")
	}
	return row
}

// filterOptions fills the choices of the page's selects. A list that a URL
// gave (object_type=skills,users) becomes one more option, chosen.
func (h *Handler) filterOptions(p *auditTrailPage, f filters) {
	for _, t := range Timeframes {
		p.Timeframes = append(p.Timeframes, option{t.Key, t.Label, t.Key == f.Timeframe})
	}
	p.Types = []option{{"", "All object types", len(f.ObjectTypes) == 0}}
	for _, t := range h.catalog.Types() {
		p.Types = append(p.Types, option{t.Key, t.Label, len(f.ObjectTypes) == 1 && f.ObjectTypes[0] == t.Key})
	}
	if len(f.ObjectTypes) > 1 || (len(f.ObjectTypes) == 1 && !slices.ContainsFunc(p.Types, func(o option) bool { return o.Selected })) {
		labels := make([]string, len(f.ObjectTypes))
		for i, k := range f.ObjectTypes {
			labels[i] = h.catalog.Label(k)
		}
		p.Types = append(p.Types, option{strings.Join(f.ObjectTypes, ","), strings.Join(labels, ", "), true})
	}
	p.Actions = []option{{"", "All actions", len(f.ActionTypes) == 0}}
	for _, a := range []string{audittrail.ActionAdd, audittrail.ActionEdit, audittrail.ActionDelete} {
		p.Actions = append(p.Actions, option{a, audittrail.ActionLabel(a), len(f.ActionTypes) == 1 && f.ActionTypes[0] == a})
	}
	if len(f.ActionTypes) > 1 || (len(f.ActionTypes) == 1 && !slices.ContainsFunc(p.Actions, func(o option) bool { return o.Selected })) {
		labels := make([]string, len(f.ActionTypes))
		for i, a := range f.ActionTypes {
			labels[i] = audittrail.ActionLabel(a)
		}
		p.Actions = append(p.Actions, option{strings.Join(f.ActionTypes, ","), strings.Join(labels, ", "), true})
	}
}

// chips lists the filters that only links set, each with a link that
// removes it.
func (h *Handler) chips(p *auditTrailPage, f filters) {
	add := func(name, label, value string, clear func(*filters)) {
		if value == "" {
			return
		}
		g := f.firstPage()
		clear(&g)
		p.Chips = append(p.Chips, chip{name, label, value, g.url("/audit-trail")})
	}
	add("element", "Element", f.Element, func(g *filters) { g.Element = "" })
	add("object_name", "Object name", f.ObjectName, func(g *filters) { g.ObjectName = "" })
	add("object_id", "Object ID", f.ObjectID, func(g *filters) { g.ObjectID = "" })
}

// retentionLabel says how long records are kept, in words.
func retentionLabel(r audittrail.Retention) string {
	switch {
	case r.Months == 1:
		return "1 month"
	case r.Months > 0:
		return strconv.Itoa(r.Months) + " months"
	}
	return r.Duration.String()
}
