package ui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
	athttp "github.com/audittrail/audittrail/http"
	"github.com/audittrail/audittrail/service"
)

// accessPage is the data of the access log page (SPEC §11): who read the
// trail, newest first, a page at a time.
type accessPage struct {
	Rows      []accessRow
	Actor     string
	Older     string // the URL of the next page, or ""
	ExportURL string
}

type accessRow struct {
	E       *audittrail.AccessEntry
	At      string
	Filters string
}

// handleAccessLog shows the account's access log. Its own reads are not
// logged (SPEC §11).
func (h *Handler) handleAccessLog(w http.ResponseWriter, r *http.Request, s *session) {
	v := h.newView(s, "Access log", "access-log")
	q := accessQuery(r.URL.Query())
	f, err := service.ParseAccessFilter(q, s.Account.ID, true)
	if err == nil {
		f.Limit = audittrail.DefaultLimit
		var page *service.AccessPage
		if page, err = h.svc.FindAccessEntries(r.Context(), s.Principal, f); err == nil {
			p := accessPage{Actor: q.Get("actor")}
			for _, e := range page.Entries {
				filters, _ := json.Marshal(e.Filters)
				p.Rows = append(p.Rows, accessRow{E: e, At: e.At.In(s.Loc).Format("2006-01-02 15:04:05"), Filters: string(filters)})
			}
			if page.Next != nil {
				next := clone(q)
				next.Set("cursor", page.Next.String())
				p.Older = "/access-log?" + next.Encode()
			}
			exp := clone(q)
			exp.Del("cursor")
			p.ExportURL = "/access-log/export.csv?" + exp.Encode()
			v.Page = p
			h.render(w, r, http.StatusOK, "access_log", v)
			return
		}
	}
	if st, ok := h.failure(w, r, err, v); ok {
		v.Page = accessPage{Actor: q.Get("actor")}
		h.render(w, r, st, "access_log", v)
	}
}

// handleAccessExport downloads the access log as CSV.
func (h *Handler) handleAccessExport(w http.ResponseWriter, r *http.Request, s *session) {
	q := accessQuery(r.URL.Query())
	q.Del("cursor")
	v := h.newView(s, "Access log", "access-log")
	f, err := service.ParseAccessFilter(q, s.Account.ID, false)
	var exp *service.AccessExport
	if err == nil {
		exp, err = h.svc.OpenAccessExport(r.Context(), s.Principal, f)
	}
	if err != nil {
		if st, ok := h.failure(w, r, err, v); ok {
			v.Page = accessPage{}
			h.render(w, r, st, "access_log", v)
		}
		return
	}
	athttp.SetDownloadHeaders(w, "text/csv; charset=utf-8", exp.Filename)
	out := export.NewIdleWriter(w, http.NewResponseController(w), h.svc.ExportIdleTimeout())
	err = exp.WriteTo(r.Context(), out)
	if err == nil {
		err = out.Close()
	}
	if err != nil {
		if r.Context().Err() == nil {
			h.logger.Error("access log export failed", "account", s.Account.ID, "error", err.Error(), "timed_out", out.TimedOut())
		}
		panic(http.ErrAbortHandler)
	}
}

// accessQuery keeps the access log's parameters of q, without empty ones
// (the filter form sends an empty actor).
func accessQuery(q url.Values) url.Values {
	out := url.Values{}
	for name, vs := range q {
		if slices.Contains(service.AccessParams, name) && strings.TrimSpace(strings.Join(vs, "")) != "" {
			out[name] = vs
		}
	}
	return out
}

func clone(q url.Values) url.Values {
	c := url.Values{}
	for k, v := range q {
		c[k] = slices.Clone(v)
	}
	return c
}
