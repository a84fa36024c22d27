package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/audittrail/audittrail/internal/benchkit"
)

// Flood bounds (issue 8, item 4). The service is shared by two cores with
// other work, so the bounds are loose and the figures are logged.
const (
	// floodP99Factor and floodP99Floor bound account B's p99 latency
	// under account A's flood: within floodP99Factor times B's p99 alone,
	// measured just before in the same test, or floodP99Floor, whichever is
	// larger.
	floodP99Factor = 5
	floodP99Floor  = 500 * time.Millisecond
	// oversizedHealthzMax bounds GET /healthz during a stream of oversized
	// requests, and oversizedRSSMax the server's resident memory.
	oversizedHealthzMax = time.Second
	oversizedRSSMax     = 300 << 20
)

// TestFlood floods account A with ingestion and reads, native and
// LiveEngage-compatible, from several clients, while account B sends a
// steady trickle: A is held to its limits with 429 and Retry-After, B
// is never refused and its p99 stays within the bound above.
func TestFlood(t *testing.T) {
	// Not parallel: B's latencies are compared with each other, so the
	// test runs alone among this package's tests.
	const (
		ingestRate, ingestBurst = 50, 1000 // records a second, per account
		readRate, readBurst     = 100, 100 // requests a second, per account
	)
	srv := MustStart(t, "--rate-ingest", fmt.Sprint(ingestRate), "--rate-ingest-burst", fmt.Sprint(ingestBurst),
		"--rate-read", fmt.Sprint(readRate), "--rate-read-burst", fmt.Sprint(readBurst))
	a := srv.MustAccount(t, "flood-a", true)
	b := srv.MustAccount(t, "flood-b", true)
	c := newFloodClient(srv)

	// B's steady traffic: one request every 20 ms, in turn a record, a
	// page, a count and a LiveEngage query: 12.5 records and 37.5 reads a
	// second, inside its limits.
	steady := func(d time.Duration) (lat []time.Duration, refused []string) {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i, end := 0, time.Now().Add(d); time.Now().Before(end); i++ {
			<-tick.C
			h := c.do(floodRequest(b, i, 1))
			if h.err != nil || h.status >= 300 {
				refused = append(refused, h.String())
				continue
			}
			lat = append(lat, h.d)
		}
		return lat, refused
	}
	for i := range 8 { // warm-up: connections and caches
		c.do(floodRequest(b, i, 1))
	}
	alone, refused := steady(2 * time.Second)
	if len(refused) > 0 {
		t.Fatalf("B alone: %d refused, want none: %v", len(refused), refused[:min(5, len(refused))])
	}

	// A's flood: two clients posting batches of 100 records, two reading (a
	// page, a count, a LiveEngage query in turn), each sending its next
	// request as soon as the last is answered, for as long as B's second
	// run: on two cores, as much as the server can answer.
	var (
		stop     atomic.Bool
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[string]map[int]int{} // kind → status → count
		badRetry []string
	)
	count := func(kind string, h floodHit) {
		mu.Lock()
		defer mu.Unlock()
		if statuses[kind] == nil {
			statuses[kind] = map[int]int{}
		}
		statuses[kind][h.status]++
		if h.status == http.StatusTooManyRequests {
			if n, err := strconv.Atoi(h.retryAfter); err != nil || n < 1 || h.code != "too_many_requests" {
				badRetry = append(badRetry, h.String())
			}
		}
	}
	floodReqs := []floodReq{floodRequest(a, 0, 100), floodRequest(a, 1, 0), floodRequest(a, 2, 0), floodRequest(a, 3, 0)}
	floodStart := time.Now()
	for w := range 4 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				kind := 0
				if w >= 2 {
					kind = 1 + i%3
				}
				h := c.do(floodReqs[kind])
				if h.err != nil {
					t.Errorf("A %s: %v", floodKinds[kind], h.err)
					return
				}
				count(floodKinds[kind], h)
			}
		})
	}
	flooded, refused := steady(3 * time.Second)
	stop.Store(true)
	wg.Wait()
	floodTime := time.Since(floodStart)

	if len(refused) > 0 {
		t.Errorf("B under A's flood: %d refused, want none: %v", len(refused), refused[:min(5, len(refused))])
	}
	for _, kind := range floodKinds {
		if statuses[kind][http.StatusTooManyRequests] == 0 {
			t.Errorf("A %s: got statuses %v, want some 429", kind, statuses[kind])
		}
		for st, n := range statuses[kind] {
			if st != http.StatusOK && st != http.StatusCreated && st != http.StatusTooManyRequests {
				t.Errorf("A %s: got %d answers of status %d, want only 2xx and 429", kind, n, st)
			}
		}
	}
	if len(badRetry) > 0 {
		t.Errorf("A: %d 429s without too_many_requests and a Retry-After of whole seconds: %v", len(badRetry), badRetry[:min(5, len(badRetry))])
	}
	// What A got stored is what its bucket allowed: a burst, then the rate.
	// (A's read bucket is empty: the count waits until it has refilled.)
	time.Sleep(time.Second * readBurst / readRate)
	stored := srv.Count(t, a, vals("object_type", "users"))
	if limit := ingestBurst + int(ingestRate*(floodTime.Seconds()+1)) + 100; stored > limit {
		t.Errorf("A's records stored during the flood: got %d, want at most %d (burst %d + %d/s for %v)", stored, limit, ingestBurst, ingestRate, floodTime.Round(time.Millisecond))
	}

	p50a, p99a := benchkit.Percentile(alone, 50), benchkit.Percentile(alone, 99)
	p50f, p99f := benchkit.Percentile(flooded, 50), benchkit.Percentile(flooded, 99)
	bound := max(floodP99Factor*p99a, floodP99Floor)
	t.Logf("B alone: %d requests, p50 %v, p99 %v; under A's flood: %d requests, p50 %v, p99 %v (%.1f× alone; bound %v)",
		len(alone), ms(p50a), ms(p99a), len(flooded), ms(p50f), ms(p99f), float64(p99f)/float64(p99a), ms(bound))
	t.Logf("A's flood for %v: %v; %d of A's records stored", floodTime.Round(time.Millisecond), statuses, stored)
	if p99f > bound {
		t.Errorf("B's p99 under A's flood: got %v, want at most %v (%d× its p99 alone, %v, or %v)", ms(p99f), ms(bound), floodP99Factor, ms(p99a), floodP99Floor)
	}
}

// TestFloodOversized sends a stream of oversized requests from several
// clients: each is refused with the contract's code, nothing is stored,
// /healthz keeps answering quickly and the server's memory stays bounded.
func TestFloodOversized(t *testing.T) {
	// Rate limits off, so that every request reaches the size checks.
	srv := MustStart(t, "--rate-ingest", "0", "--rate-read", "0")
	a := srv.MustAccount(t, "flood-big", true)
	c := newFloodClient(srv)
	before := srv.Count(t, a, nil)

	tooBig := mustJSON(records(rec("new_value", strings.Repeat("x", 6<<20))))
	batch := make([]map[string]any, 1001)
	for i := range batch {
		batch[i] = rec("object_id", fmt.Sprint(i))
	}
	tooMany := mustJSON(records(batch...))
	tooLong := mustJSON(records(rec("old_value", strings.Repeat("v", 64<<10+1))))
	cases := []struct {
		body   []byte
		status int
		code   string
	}{
		{tooBig, 413, "body_too_large"},
		{tooMany, 422, "batch_too_large"},
		{tooLong, 422, "value_too_long"},
	}

	pid := srv.cmd.Process.Pid
	rssStart, _, err := benchkit.MemStatus(pid)
	if err != nil {
		t.Skipf("the server's memory cannot be read: %v", err)
	}
	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		sent    atomic.Int64
		peakRSS atomic.Int64
		health  []time.Duration
	)
	peakRSS.Store(rssStart)
	for w := range 4 {
		wg.Go(func() {
			for i := w; !stop.Load(); i++ {
				cs := cases[i%len(cases)]
				h := c.do(floodReq{"POST", a.path("/records"), a.Key, cs.body})
				if h.err != nil {
					t.Errorf("%s: %v", cs.code, h.err)
					return
				}
				if h.status != cs.status || h.code != cs.code {
					t.Errorf("got %s, want %d %s", h, cs.status, cs.code)
				}
				sent.Add(1)
			}
		})
	}
	wg.Go(func() {
		for !stop.Load() {
			if rss, _, err := benchkit.MemStatus(pid); err == nil && rss > peakRSS.Load() {
				peakRSS.Store(rss)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		h := c.do(floodReq{"GET", "/healthz", "", nil})
		if h.err != nil || h.status != 200 {
			t.Errorf("healthz during the stream: got %s, want 200", h)
			continue
		}
		health = append(health, h.d)
	}
	stop.Store(true)
	wg.Wait()

	if got := srv.Count(t, a, nil); got != before {
		t.Errorf("records after the stream: got %d, want %d", got, before)
	}
	srv.Must(t, 201, "POST", a.path("/records"), a.Key, records(rec()))
	if len(health) == 0 {
		t.Fatal("healthz during the stream: got no answer, want one every 50 ms")
	}
	worst := slices.Max(health)
	t.Logf("%d oversized requests in 3s from 4 clients; healthz %d times, p50 %v, p99 %v, max %v; server VmRSS %d MiB at the start, peak %d MiB",
		sent.Load(), len(health), ms(benchkit.Percentile(health, 50)), ms(benchkit.Percentile(health, 99)), ms(worst), rssStart>>20, peakRSS.Load()>>20)
	if sent.Load() < int64(len(cases)) {
		t.Errorf("oversized requests answered: got %d, want at least %d", sent.Load(), len(cases))
	}
	if worst > oversizedHealthzMax {
		t.Errorf("healthz during the stream: got %v at worst, want at most %v", ms(worst), oversizedHealthzMax)
	}
	if peak := peakRSS.Load(); peak > oversizedRSSMax {
		t.Errorf("server VmRSS during the stream: got %d MiB, want at most %d MiB", peak>>20, oversizedRSSMax>>20)
	}
}

// floodKinds names the kinds of request of floodRequest.
var floodKinds = []string{"ingest", "list", "count", "liveengage"}

// floodRequest returns a request of an account's mixed traffic, by kind
// modulo 4: a batch of n records, a page, a count, a LiveEngage query.
func floodRequest(a *Account, kind, n int) floodReq {
	switch kind % 4 {
	case 0:
		items := make([]map[string]any, n)
		for j := range items {
			items[j] = rec("object_id", fmt.Sprintf("u-%d", j))
		}
		return floodReq{"POST", a.path("/records"), a.Key, mustJSON(records(items...))}
	case 1:
		return floodReq{"GET", a.path("/records?limit=20&object_type=users"), a.AdminToken, nil}
	case 2:
		return floodReq{"GET", a.path("/records/count?action_type=edit"), a.AdminToken, nil}
	default:
		return floodReq{"POST", "/api/account/" + a.ID + "/configuration/metadata/audit", a.AdminToken,
			[]byte(`{"query": "{auditData(first: 20) {objectType objectName element changeDate}}"}`)}
	}
}

type floodReq struct {
	method, path, cred string
	body               []byte
}

// floodHit is the outcome of one request.
type floodHit struct {
	status     int
	code       string // error.code of an error body
	retryAfter string
	d          time.Duration
	err        error
}

func (h floodHit) String() string {
	if h.err != nil {
		return h.err.Error()
	}
	return fmt.Sprintf("%d %s (Retry-After %q) in %v", h.status, h.code, h.retryAfter, ms(h.d))
}

// floodClient sends requests from many goroutines without failing the
// test from them; it keeps its connections open between requests.
type floodClient struct {
	url    string
	client *http.Client
}

func newFloodClient(s *Server) *floodClient {
	return &floodClient{url: s.URL, client: &http.Client{
		Timeout:   time.Minute,
		Transport: &http.Transport{MaxIdleConnsPerHost: 32, DisableCompression: true},
	}}
}

func (c *floodClient) do(r floodReq) floodHit {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, c.url+r.path, body)
	if err != nil {
		return floodHit{err: err}
	}
	if r.cred != "" {
		req.Header.Set("Authorization", "Bearer "+r.cred)
	}
	begin := time.Now()
	resp, err := c.client.Do(req)
	if err != nil {
		return floodHit{err: fmt.Errorf("%s %s: %w", r.method, r.path, err)}
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	h := floodHit{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), d: time.Since(begin), err: err}
	if resp.StatusCode >= 400 {
		var e struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		json.Unmarshal(b, &e)
		h.code = e.Error.Code
	}
	return h
}

// mustJSON marshals v, which cannot fail for the maps of these tests.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// ms rounds d for a log line.
func ms(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }
