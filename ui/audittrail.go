package ui

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/audittrail/audittrail"
)

// auditTrailPage is the data of the audit trail page.
type auditTrailPage struct {
	F           filters
	Timeframes  []option
	Types       []option
	Actions     []option
	From, To    string // the custom range's date inputs
	Originators []string
	Chips       []chip
	Zone        string
	Kept        string // how long records are kept: "13 months"
	RangeLabel  string
	RangePhrase string
	Narrowed    bool

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

// recordList is the API's answer to GET .../records.
type recordList struct {
	Records    []*audittrail.Record `json:"records"`
	NextCursor *string              `json:"next_cursor"`
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
// page's filters: the API's download passed through as it streams, or, if
// the API refuses it (too large, busy), the page with the API's message.
func (h *Handler) handleExport(w http.ResponseWriter, r *http.Request, s *session) {
	f := parseFilters(r.URL.Query()).firstPage()
	q, err := f.apiQuery(s.Loc, h.Now())
	if err != nil {
		h.renderAuditTrail(w, r, s, f, nil)
		return
	}
	file := "export.xlsx"
	if r.URL.Query().Get("format") == "csv" {
		file = "export.csv"
	}
	req, err := apiRequest(r, http.MethodGet, accountPath(s.Account.ID, "records", file), q, s.Token, nil)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pw := &proxyWriter{w: w, header: http.Header{}}
	h.api.ServeHTTP(pw, req)
	if pw.passing {
		return
	}
	if pw.status == 0 {
		pw.status = http.StatusOK
	}
	h.renderAuditTrail(w, r, s, f, decodeAPIError(pw.status, pw.header, pw.body.Bytes()))
}

// renderAuditTrail draws the page of the filters; exportErr is the API's
// refusal of an export, shown beside the export button.
func (h *Handler) renderAuditTrail(w http.ResponseWriter, r *http.Request, s *session, f filters, exportErr *apiError) {
	status := http.StatusOK
	p := &auditTrailPage{
		F:           f,
		Zone:        s.Account.Timezone,
		Kept:        retentionLabel(h.retention),
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
		status = exportErr.Status
		p.ExportError = sentence(exportErr.Message)
		p.TooLarge = exportErr.Code == audittrail.EEXPORTTOOLARGE
	}

	now := h.Now()
	q, err := f.apiQuery(s.Loc, now)
	var fe *filterError
	if errors.As(err, &fe) {
		p.FilterError = fe.msg
		h.renderAuditTrailPage(w, r, s, http.StatusBadRequest, p)
		return
	}
	list := recordList{}
	lq := cloneValues(q)
	lq.Set("limit", strconv.Itoa(PageSize))
	if f.Cursor != "" {
		lq.Set("cursor", f.Cursor)
	}
	if err := h.call(r, http.MethodGet, accountPath(s.Account.ID, "records"), lq, s.Token, nil, &list); err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			h.fail(w, r, err)
			return
		}
		if ae.Status == http.StatusForbidden {
			h.forbidden(w, r, s, forbiddenAuditTrail)
			return
		}
		p.FilterError = sentence(ae.Message)
		h.renderAuditTrailPage(w, r, s, ae.Status, p)
		return
	}
	var count struct {
		Count int `json:"count"`
	}
	if err := h.call(r, http.MethodGet, accountPath(s.Account.ID, "records", "count"), q, s.Token, nil, &count); err == nil {
		p.Count, p.CountKnown = count.Count, true
	}
	if s.Principal.IsAdministrator() {
		var users struct {
			Users []*audittrail.User `json:"users"`
		}
		if err := h.call(r, http.MethodGet, accountPath(s.Account.ID, "users"), nil, s.Token, nil, &users); err == nil {
			for _, u := range users.Users {
				p.Originators = append(p.Originators, u.Name)
			}
			slices.Sort(p.Originators)
			p.Originators = slices.Compact(p.Originators)
		}
	}

	for _, rec := range list.Records {
		p.Rows = append(p.Rows, h.row(rec, f, s.Loc))
	}
	if list.NextCursor != nil {
		next := f.firstPage()
		next.Cursor = *list.NextCursor
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

func cloneValues(q url.Values) url.Values {
	out := make(url.Values, len(q))
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	return out
}
