package http

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/ingest"
	"github.com/audittrail/audittrail/service"
)

func (s *Server) handlePostRecords(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	var req struct {
		Records []ingest.RecordInput `json:"records"`
	}
	if err := decodeJSON(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	s.chargeIngest(r, len(req.Records))
	recs, err := s.svc.AppendRecords(r.Context(), p, r.PathValue("account"), req.Records)
	s.appended(w, r, recs, err)
}

func (s *Server) handlePostChanges(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	var req struct {
		Changes []ingest.ChangeInput `json:"changes"`
	}
	if err := decodeJSON(r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	recs, err := s.svc.AppendChanges(r.Context(), p, r.PathValue("account"), req.Changes)
	// The rate limit counts records, not changes (SPEC §6): a batch is
	// charged what it stored, or, refused, what it sent.
	s.chargeIngest(r, max(len(recs), len(req.Changes)))
	s.appended(w, r, recs, err)
}

// appended answers an ingestion request: 201 with the records, which the
// service returns only once they are durable.
func (s *Server) appended(w http.ResponseWriter, r *http.Request, recs []*audittrail.Record, err error) {
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.metrics.recordsAccepted.WithLabelValues(r.Pattern).Add(float64(len(recs)))
	writeRecords(w, http.StatusCreated, recs, false, nil)
}

func (s *Server) handleListRecords(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	f, err := service.ParseFilter(r.URL.Query(), r.PathValue("account"), true)
	if err != nil {
		s.refuseRead(w, r, p, "", err)
		return
	}
	page, err := s.svc.FindRecords(r.Context(), p, f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var next *string
	if page.Next != nil {
		c := page.Next.String()
		next = &c
	}
	writeRecords(w, http.StatusOK, page.Records, true, next)
}

// bodies holds the buffers that writeRecords builds bodies in.
var bodies = sync.Pool{New: func() any { return new([]byte) }}

// writeRecords writes records as the JSON body with the status: the bytes
// that writeJSON writes for map[string]any{"records": recs}, or with paged
// for map[string]any{"next_cursor": next, "records": recs}, each record
// written by Record.AppendJSON rather than by reflection.
func writeRecords(w http.ResponseWriter, status int, recs []*audittrail.Record, paged bool, next *string) {
	bp := bodies.Get().(*[]byte)
	b := append((*bp)[:0], '{')
	if paged {
		cursor, _ := json.Marshal(next)
		b = append(b, `"next_cursor":`...)
		b = append(append(b, cursor...), ',')
	}
	b = append(b, `"records":[`...)
	for i, rec := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = rec.AppendJSON(b)
	}
	b = append(b, "]}\n"...)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
	if cap(b) <= 1<<20 { // a buffer of a huge page is left to the collector
		*bp = b
		bodies.Put(bp)
	}
}

func (s *Server) handleCountRecords(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	f, err := service.ParseFilter(r.URL.Query(), r.PathValue("account"), false)
	if err != nil {
		s.refuseRead(w, r, p, "", err)
		return
	}
	n, err := s.svc.CountRecords(r.Context(), p, f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"count": n})
}

func (s *Server) handleGetRecord(w http.ResponseWriter, r *http.Request, p *audittrail.Principal) {
	rec, err := s.svc.FindRecord(r.Context(), p, r.PathValue("account"), r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}
