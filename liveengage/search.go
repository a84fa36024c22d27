package liveengage

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/audittrail/audittrail"
)

// Defaults and bounds of the arguments (SPEC §10).
const (
	DefaultFirst    = 50
	MaxFirst        = audittrail.MaxLimit // the native API's largest page
	MaxOffset       = 1 << 31
	DefaultLimit    = 1_000_000 // rows of an export
	DefaultLanguage = "en-US"
	DefaultTimezone = "US/Eastern"
	DefaultOrderBy  = "changeTimestamp"
	maxUsers        = 1000
	maxTypes        = 100
)

// params are the arguments of either method as the caller gave them,
// before they are checked: GraphQL arguments or query parameters.
type params struct {
	fromDate, toDate   string
	users              []string
	componentTypes     []string
	orderBy            []string
	orderDirection     []string
	language, timezone string
	lpa, automatic     bool
}

// defaultParams returns the arguments that a caller who gives none gets.
func defaultParams() params {
	return params{language: DefaultLanguage, timezone: DefaultTimezone}
}

// argError is a bad argument value: which argument, and why.
type argError struct {
	Arg     string
	Message string
}

func (e *argError) Error() string { return e.Message }

func argErrorf(arg, format string, args ...any) *argError {
	return &argError{Arg: arg, Message: fmt.Sprintf(format, args...)}
}

// search is a checked request: what to select and how to show it.
type search struct {
	accountID string
	zone      string         // the time zone as the caller named it
	loc       *time.Location // ... and as loaded
	from      time.Time      // inclusive, never before the retention window
	to        *time.Time     // inclusive; nil for no end
	end       time.Time      // the end shown in an export's criteria: to, or now
	types     []*audittrail.ObjectType
	users     []string
	lpa       bool
	automatic bool
	ascending bool
}

// newSearch checks p against the catalog and the service's retention
// window as it ends at now (which the criteria of an export show; the
// service clamps every read to the window regardless).
func (h *Handler) newSearch(accountID string, p params, now time.Time) (*search, error) {
	s := &search{accountID: accountID, zone: p.timezone, lpa: p.lpa, automatic: p.automatic, end: now}
	var err error
	if s.loc, err = loadZone(p.timezone); err != nil {
		return nil, err
	}
	if p.language != "" && !languagePattern.MatchString(p.language) {
		return nil, argErrorf("language", "language %q is not a language tag such as en-US", audittrail.Clip(p.language))
	}

	windowStart := h.svc.Config().Retention.Start(now)
	s.from = windowStart
	var fromDay time.Time
	if p.fromDate != "" {
		if fromDay, err = parseDay("fromDate", p.fromDate, s.loc); err != nil {
			return nil, err
		}
		if fromDay.After(windowStart) {
			s.from = fromDay
		}
	}
	if p.toDate != "" {
		day, err := parseDay("toDate", p.toDate, s.loc)
		if err != nil {
			return nil, err
		}
		if p.fromDate != "" && day.Before(fromDay) {
			return nil, argErrorf("toDate", "toDate %s is before fromDate %s", p.toDate, p.fromDate)
		}
		to := day.AddDate(0, 0, 1).Add(-time.Millisecond) // the whole day
		s.to, s.end = &to, day
	}

	for _, name := range p.orderBy {
		if !strings.EqualFold(name, DefaultOrderBy) && !strings.EqualFold(name, "changeDate") {
			return nil, argErrorf("orderBy", "orderBy %q is not supported: records are ordered by %s", audittrail.Clip(name), DefaultOrderBy)
		}
	}
	if len(p.orderDirection) > 1 {
		return nil, argErrorf("orderDirection", "orderDirection takes one direction, for the one orderBy column %s", DefaultOrderBy)
	}
	for _, d := range p.orderDirection {
		switch strings.ToUpper(d) {
		case "ASC":
			s.ascending = true
		case "DESC":
		default:
			return nil, argErrorf("orderDirection", "orderDirection %q must be ASC or DESC", audittrail.Clip(d))
		}
	}

	if len(p.componentTypes) > maxTypes {
		return nil, argErrorf("componentTypes", "componentTypes holds more than %d names", maxTypes)
	}
	for _, name := range p.componentTypes {
		t, ok := h.byComponent[strings.ToLower(name)]
		if !ok {
			return nil, argErrorf("componentTypes", "componentTypes: %q is not a component type; known: %s", audittrail.Clip(name), h.componentNames())
		}
		if !slices.Contains(s.types, t) {
			s.types = append(s.types, t)
		}
	}

	if len(p.users) > maxUsers {
		return nil, argErrorf("users", "users holds more than %d users", maxUsers)
	}
	for _, u := range p.users {
		if len([]rune(u)) > 512 {
			return nil, argErrorf("users", "users: a user is longer than 512 characters")
		}
		if u != "" {
			s.users = append(s.users, u)
		}
	}
	return s, nil
}

// componentNames lists the component type names of the catalog.
func (h *Handler) componentNames() string {
	var names []string
	for _, t := range h.svc.Catalog().Types() {
		names = append(names, t.ComponentType)
	}
	return strings.Join(names, ", ")
}

// filter returns the RecordFilter of s: every condition of LiveEngage's
// arguments is one of the filter's, so the store applies them all, in SQL.
func (s *search) filter() audittrail.RecordFilter {
	from := s.from
	f := audittrail.RecordFilter{AccountID: s.accountID, From: &from, To: s.to,
		Originators: s.users, ExcludeLPA: !s.lpa, ExcludeAutomatic: !s.automatic}
	for _, t := range s.types {
		f.ObjectTypes = append(f.ObjectTypes, t.Key)
	}
	return f
}

// DayFormat is the format of fromDate and toDate: yyyy-MM-dd.
const DayFormat = "2006-01-02"

// parseDay reads a yyyy-MM-dd day and returns its first moment in loc.
func parseDay(arg, v string, loc *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation(DayFormat, v, loc)
	if err != nil {
		return time.Time{}, argErrorf(arg, "%s %q is not a date in the format yyyy-MM-dd, such as 2026-01-31", arg, audittrail.Clip(v))
	}
	return t, nil
}

var (
	languagePattern = regexp.MustCompile(`^[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*$`)
	offsetPattern   = regexp.MustCompile(`^(?:GMT|UTC)?([+-])(\d{1,2})(?::?(\d{2}))?$`)
)

// loadZone loads a time zone the way LiveEngage's callers name them: an
// IANA name (US/Eastern, Europe/London, UTC) or a fixed offset from GMT
// (GMT+02:00, UTC-5, +0530).
func loadZone(name string) (*time.Location, error) {
	bad := argErrorf("timezone", "timezone %q is not a time zone such as US/Eastern, Europe/London, UTC or GMT+02:00", audittrail.Clip(name))
	if name == "" || name == "Local" || len(name) > 64 {
		return nil, bad
	}
	if loc, err := time.LoadLocation(name); err == nil {
		return loc, nil
	}
	m := offsetPattern.FindStringSubmatch(name)
	if m == nil {
		return nil, bad
	}
	hours, _ := strconv.Atoi(m[2])
	minutes := 0
	if m[3] != "" {
		minutes, _ = strconv.Atoi(m[3])
	}
	if hours > 18 || minutes > 59 {
		return nil, bad
	}
	offset := hours*3600 + minutes*60
	if m[1] == "-" {
		offset = -offset
	}
	return time.FixedZone(name, offset), nil
}
