package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/audittrail/audittrail"
)

// apiError is an error answer of the API: its status and the contract's
// error body.
type apiError struct {
	Status     int
	Code       string
	Message    string
	Details    []audittrail.ErrorDetail
	RetryAfter string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("api: %d %s: %s", e.Status, e.Code, e.Message)
}

// recorder is an in-memory http.ResponseWriter for calls to the API.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

// apiRequest returns a request to the API on behalf of r, with the token as
// the bearer credential (none when token is empty) and in as the JSON body
// (none when nil).
func apiRequest(r *http.Request, method, path string, query url.Values, token string, in any) (*http.Request, error) {
	body := io.Reader(http.NoBody)
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	target := path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(r.Context(), method, target, body)
	if err != nil {
		return nil, err
	}
	req.RemoteAddr = r.RemoteAddr
	req.Host = r.Host
	req.TLS = r.TLS
	if ua := r.UserAgent(); ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req, nil
}

// call makes one request to the API in memory and decodes its JSON answer
// into out (when out is not nil). An error answer is returned as *apiError.
func (h *Handler) call(r *http.Request, method, path string, query url.Values, token string, in, out any) error {
	req, err := apiRequest(r, method, path, query, token, in)
	if err != nil {
		return err
	}
	rec := newRecorder()
	h.api.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status >= 400 {
		return decodeAPIError(rec.status, rec.header, rec.body.Bytes())
	}
	if out != nil && rec.status != http.StatusNoContent {
		if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
			return fmt.Errorf("api %s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// decodeAPIError reads the contract's error body.
func decodeAPIError(status int, header http.Header, body []byte) *apiError {
	var b struct {
		Error struct {
			Code    string                   `json:"code"`
			Message string                   `json:"message"`
			Details []audittrail.ErrorDetail `json:"details"`
		} `json:"error"`
	}
	e := &apiError{Status: status, RetryAfter: header.Get("Retry-After")}
	if err := json.Unmarshal(body, &b); err != nil || b.Error.Code == "" {
		e.Code, e.Message = audittrail.EINTERNAL, "internal error"
		return e
	}
	e.Code, e.Message, e.Details = b.Error.Code, b.Error.Message, b.Error.Details
	return e
}

// accountPath returns the API path of the account's resource: parts are
// escaped and joined after /api/v1/accounts/{account}.
func accountPath(accountID string, parts ...string) string {
	p := "/api/v1/accounts/" + url.PathEscape(accountID)
	for _, s := range parts {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// proxyWriter passes a successful API answer (a download) straight to the
// client and keeps an error answer, so the UI can show it in a page.
type proxyWriter struct {
	w       http.ResponseWriter
	header  http.Header
	status  int
	passing bool
	body    bytes.Buffer
}

func (p *proxyWriter) Header() http.Header { return p.header }

func (p *proxyWriter) WriteHeader(code int) {
	if p.status != 0 {
		return
	}
	p.status = code
	if code < 300 {
		p.passing = true
		for k, v := range p.header {
			p.w.Header()[k] = v
		}
		p.w.WriteHeader(code)
	}
}

func (p *proxyWriter) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.WriteHeader(http.StatusOK)
	}
	if p.passing {
		return p.w.Write(b)
	}
	return p.body.Write(b)
}

// Flush lets the API flush a download as it streams.
func (p *proxyWriter) Flush() {
	if p.passing {
		http.NewResponseController(p.w).Flush()
	}
}
