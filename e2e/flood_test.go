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

// Flood bounds (issue 8, item 4). No bound here depends on how fast the
// machine is: the floods are counts of requests, a fixed multiple of the
// limits' bursts, against rates so low that no machine could send them
// slowly enough to stay under them; latencies are logged, not compared.
const (
	// oversizedHealthzMax bounds GET /healthz during a stream of oversized
	// requests: not a speed but a sign of life, far above what a loaded
	// machine takes. oversizedRSSMax bounds the server's resident memory.
	oversizedHealthzMax = 10 * time.Second
	oversizedRSSMax     = 300 << 20
)

// TestFlood floods account A with ingestion and reads, native and
// LiveEngage-compatible, from several clients, while account B sends a
// trickle: A is held to its limits with 429 and Retry-After, and B is
// never refused. B's latencies are logged, alone and under the flood.
func TestFlood(t *testing.T) {
	// Not parallel: B's latencies, logged, are compared with each other.
	const (
		// Limits per account. Ingestion: a bucket of 1,000 records (the
		// least the server takes: a full batch) refilled at 1 a second;
		// reads: a bucket of 20 requests refilled at 1 a second.
		ingestRate, ingestBurst = 1, 1000
		readRate, readBurst     = 1, 20
		// A's flood: floodClients clients of each kind. The ingest clients
		// post 2× the burst in batches of 100 records: all of it fits the
		// bucket only if the posts take over 1,000 s. The read clients send
		// in turn a page, a count and a LiveEngage query, each kind 2× the
		// burst: every one of a kind is admitted only if the reads take
		// over 20 s (the bucket's 20, then 1 a second) — 120 small reads.
		floodClients = 2
		floodBatch   = 100
		ingestPosts  = 2 * ingestBurst / floodBatch / floodClients // per client
		readRounds   = 2 * readBurst / floodClients                // per client, a request of each kind
		// B sends bRequests requests in turn (a record, a page, a count, a
		// LiveEngage query) alone, then as many under A's flood: 12 reads,
		// inside its bucket of 20 whatever the time they take.
		bRequests = 8
	)
	srv := MustStart(t, "--rate-ingest", fmt.Sprint(ingestRate), "--rate-ingest-burst", fmt.Sprint(ingestBurst),
		"--rate-read", fmt.Sprint(readRate), "--rate-read-burst", fmt.Sprint(readBurst))
	a := srv.MustAccount(t, "flood-a", true)
	b := srv.MustAccount(t, "flood-b", true)
	c := newFloodClient(srv)

	// B's trickle: n requests, one every 20 ms at most, in turn a record,
	// a page, a count and a LiveEngage query.
	trickle := func(n int) (lat []time.Duration, refused []string) {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := range n {
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
	for range 4 { // warm-up: connections and caches, with records only
		c.do(floodRequest(b, 0, 1))
	}
	alone, refused := trickle(bRequests)
	if len(refused) > 0 {
		t.Fatalf("B alone: %d refused, want none: %v", len(refused), refused[:min(5, len(refused))])
	}

	// A's flood: the ingest and read clients send their requests, each as
	// soon as the last is answered, while B sends as many as alone.
	var (
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
	floodReqs := []floodReq{floodRequest(a, 0, floodBatch), floodRequest(a, 1, 0), floodRequest(a, 2, 0), floodRequest(a, 3, 0)}
	send := func(kind int) bool {
		h := c.do(floodReqs[kind])
		if h.err != nil {
			t.Errorf("A %s: %v", floodKinds[kind], h.err)
			return false
		}
		count(floodKinds[kind], h)
		return true
	}
	floodStart := time.Now()
	for range floodClients {
		wg.Go(func() {
			for range ingestPosts {
				if !send(0) {
					return
				}
			}
		})
		wg.Go(func() {
			for range readRounds {
				for kind := 1; kind <= 3; kind++ {
					if !send(kind) {
						return
					}
				}
			}
		})
	}
	flooded, refused := trickle(bRequests)
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
	// What A got stored is what its bucket allowed: a burst, then the rate,
	// and a batch a client (admitted on one token, then charged). (A's read bucket is empty: the count
	// waits as long as its Retry-After says.)
	stored := floodCount(t, c, a, "object_type=users")
	if limit := ingestBurst + int(ingestRate*(floodTime.Seconds()+1)) + floodClients*floodBatch; stored > limit {
		t.Errorf("A's records stored during the flood: got %d, want at most %d (burst %d + %d/s for %v + a batch a client)", stored, limit, ingestBurst, ingestRate, floodTime.Round(time.Millisecond))
	}

	p50a, p99a := benchkit.Percentile(alone, 50), benchkit.Percentile(alone, 99)
	p50f, p99f := benchkit.Percentile(flooded, 50), benchkit.Percentile(flooded, 99)
	t.Logf("B alone: %d requests, p50 %v, p99 %v; under A's flood: %d requests, p50 %v, p99 %v (%.1f× alone)",
		len(alone), ms(p50a), ms(p99a), len(flooded), ms(p50f), ms(p99f), float64(p99f)/float64(max(p99a, 1)))
	t.Logf("A's flood for %v: %v; %d of A's records stored", floodTime.Round(time.Millisecond), statuses, stored)
}

// floodCount returns the count of an account's records matching query,
// waiting as long as a 429's Retry-After says while its read bucket is
// empty.
func floodCount(tb testing.TB, c *floodClient, a *Account, query string) int {
	tb.Helper()
	req := floodReq{"GET", a.path("/records/count?" + query), a.AdminToken, nil}
	for range 10 {
		h := c.do(req)
		if h.err == nil && h.status == http.StatusTooManyRequests {
			n, err := strconv.Atoi(h.retryAfter)
			if err != nil || n < 1 {
				tb.Fatalf("count: got %s, want a Retry-After of whole seconds", h)
			}
			time.Sleep(time.Duration(n) * time.Second)
			continue
		}
		var v struct {
			Count *int `json:"count"`
		}
		if h.err != nil || h.status != http.StatusOK || json.Unmarshal(h.body, &v) != nil || v.Count == nil {
			tb.Fatalf("count: got %s %.200s, want 200 {\"count\": N}", h, h.body)
		}
		return *v.Count
	}
	tb.Fatalf("count: still 429 after 10 waits of its Retry-After")
	return 0
}

// TestFloodOversized sends a stream of oversized requests from several
// clients: each is refused with the contract's code, nothing is stored,
// /healthz keeps answering and the server's memory stays bounded.
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
	// The stream: each client sends perClient requests, each case in turn,
	// as soon as the last is answered; /healthz is asked every 50 ms until
	// the stream ends, and at least once.
	const clients, perClient = 4, 4 * 3
	var (
		done    atomic.Bool
		wg      sync.WaitGroup
		sent    atomic.Int64
		peakRSS atomic.Int64
		health  []time.Duration
	)
	peakRSS.Store(rssStart)
	var stream sync.WaitGroup
	for w := range clients {
		stream.Go(func() {
			for i := w; i < w+perClient; i++ {
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
	go func() { stream.Wait(); done.Store(true) }()
	wg.Go(func() {
		for !done.Load() {
			if rss, _, err := benchkit.MemStatus(pid); err == nil && rss > peakRSS.Load() {
				peakRSS.Store(rss)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	streamStart := time.Now()
	for first := true; first || !done.Load(); first = false {
		h := c.do(floodReq{"GET", "/healthz", "", nil})
		if h.err != nil || h.status != 200 {
			t.Errorf("healthz during the stream: got %s, want 200", h)
		} else {
			health = append(health, h.d)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stream.Wait()
	wg.Wait()
	streamTime := time.Since(streamStart)

	if got := srv.Count(t, a, nil); got != before {
		t.Errorf("records after the stream: got %d, want %d", got, before)
	}
	srv.Must(t, 201, "POST", a.path("/records"), a.Key, records(rec()))
	if len(health) == 0 {
		t.Fatal("healthz during the stream: got no answer, want one every 50 ms")
	}
	worst := slices.Max(health)
	t.Logf("%d oversized requests in %v from %d clients; healthz %d times, p50 %v, p99 %v, max %v; server VmRSS %d MiB at the start, peak %d MiB",
		sent.Load(), streamTime.Round(time.Millisecond), clients, len(health), ms(benchkit.Percentile(health, 50)), ms(benchkit.Percentile(health, 99)), ms(worst), rssStart>>20, peakRSS.Load()>>20)
	if sent.Load() != clients*perClient {
		t.Errorf("oversized requests answered: got %d, want %d", sent.Load(), clients*perClient)
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
	body       []byte
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
	h := floodHit{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: b, d: time.Since(begin), err: err}
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
