package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/internal/benchkit"
)

// target is the server under load.
type target struct {
	url    string
	pid    int // 0 when atload did not start it
	client *http.Client
}

func newTarget(url string, pid int) *target {
	return &target{url: url, pid: pid, client: &http.Client{
		Timeout:   10 * time.Minute,
		Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, DisableCompression: true},
	}}
}

// errLimited is the error of a 429 answer.
var errLimited = errors.New("429 too many requests")

// do sends a request with a bearer credential and an optional JSON body,
// and copies the answer into w (io.Discard when nil). It fails unless the
// status is want, with errLimited for a 429.
func (t *target) do(ctx context.Context, method, path, cred string, body []byte, want int, w io.Writer) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, t.url+path, rd)
	if err != nil {
		return err
	}
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusTooManyRequests {
		io.Copy(io.Discard, resp.Body)
		return errLimited
	}
	if resp.StatusCode != want {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if w == nil {
		w = io.Discard
	}
	_, err = io.Copy(w, resp.Body)
	return err
}

// doJSON is do with v marshaled as the body and the answer decoded into out.
func (t *target) doJSON(ctx context.Context, method, path, cred string, v any, want int, out any) error {
	var body []byte
	if v != nil {
		var err error
		if body, err = json.Marshal(v); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	if err := t.do(ctx, method, path, cred, body, want, &buf); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(buf.Bytes(), out)
}

// probe sends GET /healthz n times (0: until ctx ends), every interval
// (0: back to back), and returns the latencies of the answers.
func (t *target) probe(ctx context.Context, n int, every time.Duration) []time.Duration {
	var lat []time.Duration
	for i := 0; (n == 0 || i < n) && ctx.Err() == nil; i++ {
		begin := time.Now()
		if err := t.do(ctx, http.MethodGet, "/healthz", "", nil, http.StatusOK, nil); err == nil {
			lat = append(lat, time.Since(begin))
		}
		if every > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(every - time.Since(begin)):
			}
		}
	}
	return lat
}

// account is an account made through the API.
type account struct {
	t     *target
	id    string
	key   string    // a publisher key
	token string    // a user token of its administrator (holds audit_trail.view)
	until time.Time // the end of the prefill: exports read up to it
}

// newAccount creates an account with the operator token, logs its
// administrator in, makes a publisher key and enables the audit trail.
func (t *target) newAccount(ctx context.Context, id, operatorToken string) (*account, error) {
	a := &account{t: t, id: id}
	password := audittrail.NewSecret("pw_")
	if err := t.doJSON(ctx, "POST", "/api/v1/accounts", operatorToken, map[string]any{
		"id": id, "name": "Load " + id, "timezone": "Europe/Paris",
		"admin": map[string]any{"login_name": "admin", "name": "Load Admin", "email": "admin@load.example", "password": password},
	}, http.StatusCreated, nil); err != nil {
		return nil, err
	}
	var login struct{ Token string }
	if err := t.doJSON(ctx, "POST", "/api/v1/login", "", map[string]string{"account_id": id, "login_name": "admin", "password": password}, http.StatusOK, &login); err != nil {
		return nil, err
	}
	a.token = login.Token
	var key struct{ Key string }
	if err := t.doJSON(ctx, "POST", a.path("/publisher-keys"), a.token, map[string]string{"name": "atload"}, http.StatusCreated, &key); err != nil {
		return nil, err
	}
	a.key = key.Key
	if err := t.doJSON(ctx, "PATCH", a.path(""), a.token, map[string]any{"audit_trail_enabled": true}, http.StatusOK, nil); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *account) path(rest string) string { return "/api/v1/accounts/" + a.id + rest }

// prefill posts n records in batches of 1,000.
func (a *account) prefill(ctx context.Context, g *benchkit.Gen, n int) error {
	for done := 0; done < n; {
		k := min(1000, n-done)
		items := make([]benchkit.Item, k)
		for i := range items {
			items[i] = g.Item(time.Time{})
		}
		if err := a.t.do(ctx, "POST", a.path("/records"), a.key, benchkit.Body(items), http.StatusCreated, nil); err != nil {
			return err
		}
		done += k
	}
	// The server dates the records by its clock; a second later, they are
	// all before the end of the prefill.
	time.Sleep(time.Second)
	a.until = time.Now()
	return nil
}

// client is one closed-loop client of one account.
type client struct {
	t            *target
	a            *account
	g            *benchkit.Gen
	rnd          *rand.Rand
	batch, pages int
	stats        map[string]*routeStats
}

// one sends one request of the kind (a list: up to pages pages).
func (c *client) one(ctx context.Context, kind string) {
	switch kind {
	case "ingest":
		items := make([]benchkit.Item, c.batch)
		for i := range items {
			items[i] = c.g.Item(time.Time{})
		}
		c.measure(ctx, kind, int64(c.batch), func() error {
			return c.t.do(ctx, "POST", c.a.path("/records"), c.a.key, benchkit.Body(items), http.StatusCreated, nil)
		})
	case "list":
		q := c.filter()
		for range c.pages {
			var page struct {
				Records    []json.RawMessage `json:"records"`
				NextCursor *string           `json:"next_cursor"`
			}
			ok := c.measure(ctx, kind, 0, func() error {
				return c.t.doJSON(ctx, "GET", c.a.path("/records?"+q.Encode()), c.a.token, nil, http.StatusOK, &page)
			})
			c.stats[kind].records += int64(len(page.Records))
			if !ok || page.NextCursor == nil {
				return
			}
			q.Set("cursor", *page.NextCursor)
		}
	case "count":
		q := c.filter()
		c.measure(ctx, kind, 0, func() error {
			return c.t.doJSON(ctx, "GET", c.a.path("/records/count?"+q.Encode()), c.a.token, nil, http.StatusOK, nil)
		})
	case "export":
		q := url.Values{"to": {audittrail.FormatTime(c.a.until)}}
		lines := &lineCounter{}
		ok := c.measure(ctx, kind, 0, func() error {
			return c.t.do(ctx, "GET", c.a.path("/records/export.csv?"+q.Encode()), c.a.token, nil, http.StatusOK, lines)
		})
		if ok {
			c.stats[kind].records += max(0, lines.n-1) // less the header
		}
	}
}

// filter returns a random filter of the kinds a person sets in the UI.
func (c *client) filter() url.Values {
	q := url.Values{}
	switch c.rnd.IntN(4) {
	case 0:
		q.Set("object_type", []string{"users", "skills", "agent_groups", "permissions", "lobs", "post_conversation_survey", "campaign_scheduling", "working_hours"}[c.rnd.IntN(8)])
	case 1:
		q.Set("action_type", []string{"add", "edit", "delete"}[c.rnd.IntN(3)])
	case 2:
		q.Set("q", []string{"billing", "sales", "grace", "night", "campaign"}[c.rnd.IntN(5)])
	default: // everything, newest first
	}
	return q
}

// measure runs fn and records its latency under the route when it
// succeeded, and records counted as done; it reports whether it succeeded.
// A request cut short by the end of the run is not counted.
func (c *client) measure(ctx context.Context, route string, records int64, fn func() error) bool {
	s := c.stats[route]
	if s == nil {
		s = &routeStats{}
		c.stats[route] = s
	}
	begin := time.Now()
	err := fn()
	switch {
	case ctx.Err() != nil:
		return false
	case errors.Is(err, errLimited):
		s.limited++
		return false
	case err != nil:
		s.errors++
		if s.firstErr == "" {
			s.firstErr = err.Error()
		}
		return false
	}
	s.lat = append(s.lat, time.Since(begin))
	s.records += records
	return true
}

// lineCounter counts the lines written to it.
type lineCounter struct{ n int64 }

func (l *lineCounter) Write(p []byte) (int, error) {
	l.n += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}
