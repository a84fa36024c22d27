package ui

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/audittrail/audittrail"
)

// Timeframe is a choice of the audit trail page's timeframe filter.
type Timeframe struct {
	Key   string
	Label string
}

// Timeframes are the choices of the timeframe filter, in menu order.
var Timeframes = []Timeframe{
	{"24h", "Last 24 hours"},
	{"7d", "Last 7 days"},
	{"30d", "Last 30 days"},
	{"13mo", "Last 13 months"},
	{"custom", "Custom range"},
}

// DefaultTimeframe is the timeframe of a page whose URL names none.
const DefaultTimeframe = "30d"

// filters are the filters of the audit trail page, as its URL holds them:
// the API's names (object_type, action_type, originator, q, from, to,
// element, object_name, object_id, cursor) plus timeframe, and open, the
// record whose details are shown.
type filters struct {
	Timeframe   string
	From, To    string // a custom range: YYYY-MM-DD in the account's zone, or RFC 3339
	ObjectTypes []string
	ActionTypes []string
	Originator  string
	Q           string
	Element     string
	ObjectName  string
	ObjectID    string
	Cursor      string
	Open        string
}

// parseFilters reads the filters of a page's URL. Lists may come as
// repeated names or comma-separated; a preset timeframe wins over from and
// to, and from or to without a timeframe make a custom range.
func parseFilters(q url.Values) filters {
	f := filters{
		From:       strings.TrimSpace(q.Get("from")),
		To:         strings.TrimSpace(q.Get("to")),
		Originator: strings.TrimSpace(q.Get("originator")),
		Q:          strings.TrimSpace(q.Get("q")),
		Element:    strings.TrimSpace(q.Get("element")),
		ObjectName: strings.TrimSpace(q.Get("object_name")),
		ObjectID:   strings.TrimSpace(q.Get("object_id")),
		Cursor:     q.Get("cursor"),
		Open:       q.Get("open"),
	}
	f.ObjectTypes = parseList(q["object_type"])
	f.ActionTypes = parseList(q["action_type"])
	tf := q.Get("timeframe")
	known := slices.ContainsFunc(Timeframes, func(t Timeframe) bool { return t.Key == tf })
	switch {
	case known && tf != "custom":
		f.Timeframe, f.From, f.To = tf, "", ""
	case f.From != "" || f.To != "":
		f.Timeframe = "custom"
	default:
		f.Timeframe, f.From, f.To = DefaultTimeframe, "", ""
	}
	return f
}

// parseList reads a list filter given as repeated values, comma-separated
// values, or both; empty items and repeats are dropped.
func parseList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// values returns the canonical query of the page's URL: lists
// comma-separated, empty filters and the default timeframe left out.
func (f filters) values() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Timeframe == "custom" {
		set("from", f.From)
		set("to", f.To)
	} else if f.Timeframe != DefaultTimeframe {
		set("timeframe", f.Timeframe)
	}
	set("object_type", strings.Join(f.ObjectTypes, ","))
	set("action_type", strings.Join(f.ActionTypes, ","))
	set("originator", f.Originator)
	set("q", f.Q)
	set("element", f.Element)
	set("object_name", f.ObjectName)
	set("object_id", f.ObjectID)
	set("cursor", f.Cursor)
	set("open", f.Open)
	return q
}

// url returns the page's address with these filters.
func (f filters) url(p string) string {
	if q := f.values().Encode(); q != "" {
		return p + "?" + q
	}
	return p
}

// narrowed reports whether a filter other than the timeframe is set.
func (f filters) narrowed() bool {
	return len(f.ObjectTypes) > 0 || len(f.ActionTypes) > 0 || f.Originator != "" || f.Q != "" ||
		f.Element != "" || f.ObjectName != "" || f.ObjectID != ""
}

// firstPage returns the filters without the page position or open row.
func (f filters) firstPage() filters {
	f.Cursor, f.Open = "", ""
	return f
}

// cleared returns the filters with only the timeframe kept.
func (f filters) cleared() filters {
	return filters{Timeframe: f.Timeframe, From: f.From, To: f.To}
}

// filterError is a filter the page cannot use, worded for the person.
type filterError struct{ msg string }

func (e *filterError) Error() string { return e.msg }

// apiQuery returns these filters as the API's query, which
// service.ParseFilter reads: the timeframe resolved to from and to at now,
// dates of a custom range read in loc (to includes its whole day). cursor
// and limit are the caller's to add.
func (f filters) apiQuery(loc *time.Location, now time.Time) (url.Values, error) {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	switch f.Timeframe {
	case "24h":
		set("from", audittrail.FormatTime(now.Add(-24*time.Hour)))
	case "7d":
		set("from", audittrail.FormatTime(now.AddDate(0, 0, -7)))
	case "30d":
		set("from", audittrail.FormatTime(now.AddDate(0, 0, -30)))
	case "13mo":
		set("from", audittrail.FormatTime(now.AddDate(0, -13, 0)))
	case "custom":
		from, err := parseBound(f.From, loc, false)
		if err != nil {
			return nil, err
		}
		to, err := parseBound(f.To, loc, true)
		if err != nil {
			return nil, err
		}
		if !from.IsZero() && !to.IsZero() && from.After(to) {
			return nil, &filterError{"The start of the custom range is after its end. Choose a start date on or before the end date."}
		}
		if !from.IsZero() {
			set("from", audittrail.FormatTime(from))
		}
		if !to.IsZero() {
			set("to", audittrail.FormatTime(to))
		}
	}
	set("object_type", strings.Join(f.ObjectTypes, ","))
	set("action_type", strings.Join(f.ActionTypes, ","))
	set("originator", f.Originator)
	set("q", f.Q)
	set("element", f.Element)
	set("object_name", f.ObjectName)
	set("object_id", f.ObjectID)
	return q, nil
}

// parseBound reads a bound of a custom range: a date (the start of that
// day in loc, or for end the last millisecond of it) or an RFC 3339 time.
// An empty bound is the zero time.
func parseBound(v string, loc *time.Location, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	name := "start"
	if end {
		name = "end"
	}
	if len(v) == len(time.DateOnly) {
		d, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			return time.Time{}, &filterError{"The " + name + " date " + strconv.Quote(v) + " is not a date. Use the date picker, or the form YYYY-MM-DD."}
		}
		if end {
			d = d.AddDate(0, 0, 1).Add(-time.Millisecond)
		}
		return d.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, &filterError{"The " + name + " date " + strconv.Quote(v) + " is not a date. Use the date picker, or the form YYYY-MM-DD."}
	}
	return t.UTC(), nil
}

// dateInput returns a bound as the value of a date input (YYYY-MM-DD).
func dateInput(v string, loc *time.Location) string {
	if len(v) == len(time.DateOnly) {
		return v
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.In(loc).Format(time.DateOnly)
	}
	return v
}

// rangeLabel describes the timeframe in words: "Last 30 days",
// "Jan 2, 2026 – Jan 31, 2026", "since Jan 2, 2026".
func (f filters) rangeLabel(loc *time.Location) string {
	if f.Timeframe != "custom" {
		for _, t := range Timeframes {
			if t.Key == f.Timeframe {
				return t.Label
			}
		}
	}
	show := func(v string, end bool) string {
		t, err := parseBound(v, loc, end)
		if err != nil || t.IsZero() {
			return ""
		}
		return t.In(loc).Format("Jan 2, 2006")
	}
	from, to := show(f.From, false), show(f.To, true)
	switch {
	case from != "" && to != "":
		return from + " – " + to
	case from != "":
		return "Since " + from
	case to != "":
		return "Until " + to
	}
	return "Custom range"
}

// rangePhrase describes the timeframe inside a sentence: "in the last 30
// days", "between Jan 2, 2026 and Jan 31, 2026".
func (f filters) rangePhrase(loc *time.Location) string {
	label := f.rangeLabel(loc)
	switch {
	case f.Timeframe != "custom":
		return "in the " + strings.ToLower(label[:1]) + label[1:]
	case strings.Contains(label, " – "):
		from, to, _ := strings.Cut(label, " – ")
		return "between " + from + " and " + to
	case label == "Custom range":
		return "in this timeframe"
	}
	return strings.ToLower(label[:1]) + label[1:]
}
