package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/audittrail/audittrail/export"
	"github.com/audittrail/audittrail/service"

	"github.com/audittrail/audittrail"
)

func TestRateLimiter(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	newLimiter := func() *rateLimiter {
		return newRateLimiter(RateLimit{Rate: 100, Burst: 1000}, RateLimit{Rate: 2, Burst: 3})
	}

	t.Run("OKBurstThenRate", func(t *testing.T) {
		l := newLimiter()
		for i := range 3 {
			if w := l.take(reads, "acme", now); w != 0 {
				t.Fatalf("request %d: got wait %v, want 0", i, w)
			}
		}
		if w := l.take(reads, "acme", now); w != 500*time.Millisecond {
			t.Fatalf("over the burst: got wait %v, want 500ms", w)
		}
		// A refused request takes nothing: the wait shrinks with time alone.
		if w := l.take(reads, "acme", now.Add(200*time.Millisecond)); w != 300*time.Millisecond {
			t.Fatalf("200ms later: got wait %v, want 300ms", w)
		}
		if w := l.take(reads, "acme", now.Add(500*time.Millisecond)); w != 0 {
			t.Fatalf("500ms later: got wait %v, want 0", w)
		}
		if w := l.take(reads, "acme", now.Add(500*time.Millisecond)); w == 0 {
			t.Fatalf("again at once: got wait 0, want some")
		}
	})

	t.Run("OKAccountsAndClassesApart", func(t *testing.T) {
		l := newLimiter()
		for range 3 {
			l.take(reads, "acme", now)
		}
		if w := l.take(reads, "acme", now); w == 0 {
			t.Fatalf("acme reads: got wait 0, want some")
		}
		if w := l.take(reads, "globex", now); w != 0 {
			t.Fatalf("globex reads: got wait %v, want 0", w)
		}
		if w := l.take(ingestion, "acme", now); w != 0 {
			t.Fatalf("acme ingestion: got wait %v, want 0", w)
		}
	})

	t.Run("OKChargeGoesIntoDebt", func(t *testing.T) {
		l := newLimiter()
		// A batch of 1,000 items: one token taken up front, 999 charged
		// once the body is decoded; the bucket is empty.
		l.take(ingestion, "acme", now)
		l.charge(ingestion, "acme", 999, now)
		if w := l.take(ingestion, "acme", now); w != 10*time.Millisecond {
			t.Fatalf("after a full batch: got wait %v, want 10ms (one item at 100/s)", w)
		}
		// A second full batch, admitted 10ms later, puts it 999 in debt.
		at := now.Add(10 * time.Millisecond)
		if w := l.take(ingestion, "acme", at); w != 0 {
			t.Fatalf("10ms later: got wait %v, want 0", w)
		}
		l.charge(ingestion, "acme", 999, at)
		if w := l.take(ingestion, "acme", at); w != 10*time.Second {
			t.Fatalf("in debt: got wait %v, want 10s (1,000 items at 100/s)", w)
		}
		// A charge is capped at the burst.
		l.charge(ingestion, "globex", 5000, now)
		if w := l.take(ingestion, "globex", now); w != 10*time.Millisecond {
			t.Fatalf("after a charge over the burst: got wait %v, want 10ms", w)
		}
	})

	t.Run("OKOff", func(t *testing.T) {
		l := newRateLimiter(RateLimit{Rate: 0, Burst: 10}, RateLimit{})
		for range 100 {
			if w := l.take(reads, "acme", now); w != 0 {
				t.Fatalf("off: got wait %v, want 0", w)
			}
			l.charge(ingestion, "acme", 1000, now)
			if w := l.take(ingestion, "acme", now); w != 0 {
				t.Fatalf("off: got wait %v, want 0", w)
			}
		}
		if n := l.size(); n != 0 {
			t.Fatalf("buckets: got %v, want 0", n)
		}
		var none *rateLimiter
		if w := none.take(reads, "acme", now); w != 0 {
			t.Fatalf("nil limiter: got wait %v, want 0", w)
		}
	})

	t.Run("OKIdleBucketsDropped", func(t *testing.T) {
		l := newLimiter()
		// 10,000 accounts read once each: their buckets are not full.
		for i := range 10_000 {
			l.take(reads, fmt.Sprintf("acct-%d", i), now)
		}
		// One account in deep debt.
		l.take(ingestion, "busy", now)
		l.charge(ingestion, "busy", 1000, now)
		l.charge(ingestion, "busy", 1000, now)
		if n := l.size(); n != 10_001 {
			t.Fatalf("buckets: got %v, want 10,001", n)
		}
		// A second later the read buckets are full again (3 at 2/s) and a
		// sweep drops them; busy is still 901 items in debt (each charge is
		// capped at the burst of 1,000).
		later := now.Add(time.Second)
		for range sweepEvery {
			l.take(reads, "steady", later)
		}
		if n := l.size(); n > 3 {
			t.Fatalf("buckets after a sweep: got %v, want at most 3 (steady, busy)", n)
		}
		if w := l.take(ingestion, "busy", later); w != 9020*time.Millisecond {
			t.Fatalf("busy after the sweep: got wait %v, want 9.02s (its debt kept)", w)
		}
		// Once full, busy goes too.
		much := later.Add(time.Minute)
		for range sweepEvery {
			l.take(reads, "steady", much)
		}
		if n := l.size(); n != 1 {
			t.Fatalf("buckets a minute later: got %v, want 1 (steady)", n)
		}
	})
}

func TestRateLimitBursts(t *testing.T) {
	l := newRateLimiter(RateLimit{Rate: 10, Burst: 5}, RateLimit{Rate: 1, Burst: 0})
	if got := l.limits[ingestion].Burst; got != 1000 {
		t.Errorf("ingestion burst: got %v, want %v (a full batch)", got, 1000)
	}
	if got := l.limits[reads].Burst; got != 1 {
		t.Errorf("read burst: got %v, want %v", got, 1)
	}
	for _, c := range []struct {
		a    access
		want rateClass
	}{{publisher, ingestion}, {viewer, reads}, {self, reads}, {administrator, unlimited}, {operator, unlimited}, {public, unlimited}} {
		if got := c.a.rateClass(); got != c.want {
			t.Errorf("%s: got class %v, want %v", c.a, got, c.want)
		}
	}
}

// rateEnv is a server with low limits and a clock the test moves, and two
// accounts, each with a publisher key and an administrator's token. Its
// requests go straight to the server's handler.
type rateEnv struct {
	t     *testing.T
	srv   *testServer
	mu    sync.Mutex
	now   time.Time
	key   map[string]string
	token map[string]string
}

func newRateEnv(t *testing.T, ingest, read RateLimit, wrap ...func(audittrail.Store) audittrail.Store) *rateEnv {
	t.Helper()
	e := &rateEnv{t: t, now: time.Now(), key: map[string]string{}, token: map[string]string{}}
	clock := func() time.Time {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.now
	}
	o := testOptions{Now: clock, Limits: &Config{IngestLimit: ingest, ReadLimit: read}}
	if len(wrap) > 0 {
		o.Wrap = wrap[0]
	}
	e.srv = newTestServer(t, o)
	// The accounts are made through the service, which no rate limit holds.
	ctx := context.Background()
	for _, id := range []string{"acct-a", "acct-b"} {
		if _, _, err := e.srv.svc.CreateAccount(ctx, service.Local(), service.AccountInput{ID: id, Name: "Account " + id,
			Admin: service.AdminInput{LoginName: "admin", Name: "Admin " + id, Password: "rate-password-1"}}); err != nil {
			t.Fatal(err)
		}
		l, err := e.srv.svc.Login(ctx, id, "admin", "rate-password-1")
		if err != nil {
			t.Fatal(err)
		}
		e.token[id] = l.Token
		on := true
		if _, err := e.srv.svc.UpdateAccount(ctx, service.Local(), id, audittrail.AccountUpdate{AuditTrailEnabled: &on}); err != nil {
			t.Fatal(err)
		}
		k, err := e.srv.svc.CreatePublisherKey(ctx, service.Local(), id, "platform")
		if err != nil {
			t.Fatal(err)
		}
		e.key[id] = k.Key
	}
	// From now on the clock moves only when the test says, from a moment
	// after the audit trails were enabled.
	e.advance(time.Second)
	return e
}

func (e *rateEnv) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

// serve sends a request with an optional credential and JSON body to the
// server and returns its answer.
func (e *rateEnv) serve(method, path, cred string, body any) *httptest.ResponseRecorder {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd)
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, req)
	return w
}

func (e *rateEnv) must(want int, method, path, cred string, body any) map[string]any {
	e.t.Helper()
	w := e.serve(method, path, cred, body)
	if w.Code != want {
		e.t.Fatalf("%s %s: got %d, want %d: %.300s", method, path, w.Code, want, w.Body)
	}
	var m map[string]any
	json.Unmarshal(w.Body.Bytes(), &m)
	return m
}

// mustLimited checks that the answer is 429 too_many_requests with a
// Retry-After of want seconds.
func (e *rateEnv) mustLimited(method, path, cred string, body any, want int) {
	e.t.Helper()
	w := e.serve(method, path, cred, body)
	if w.Code != http.StatusTooManyRequests {
		e.t.Fatalf("%s %s: got %d, want 429: %.300s", method, path, w.Code, w.Body)
	}
	var eb errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || eb.Error.Code != audittrail.ETOOMANYREQUESTS || eb.Error.Message == "" {
		e.t.Fatalf("%s %s: got body %s, want error code %s with a message", method, path, w.Body, audittrail.ETOOMANYREQUESTS)
	}
	if got := w.Header().Get("Retry-After"); got != strconv.Itoa(want) {
		e.t.Fatalf("%s %s: got Retry-After %q, want %q", method, path, got, strconv.Itoa(want))
	}
}

func rateItems(n int) map[string]any {
	items := make([]any, n)
	for i := range items {
		items[i] = authzRecord()
	}
	return map[string]any{"records": items}
}

func TestRateLimitRoutes(t *testing.T) {
	t.Run("ErrIngestionCountsItems", func(t *testing.T) {
		e := newRateEnv(t, RateLimit{Rate: 100, Burst: 1000}, RateLimit{})
		a, b := "/api/v1/accounts/acct-a", "/api/v1/accounts/acct-b"
		e.must(201, "POST", a+"/records", e.key["acct-a"], rateItems(600))
		e.must(201, "POST", a+"/records", e.key["acct-a"], rateItems(400))
		// 1,000 items in the bucket of 1,000: the next waits 10ms, shown
		// as 1 second (Retry-After is whole seconds, rounded up).
		e.mustLimited("POST", a+"/records", e.key["acct-a"], rateItems(1), 1)
		e.mustLimited("POST", a+"/changes", e.key["acct-a"], map[string]any{"changes": []any{}}, 1)
		e.must(201, "POST", b+"/records", e.key["acct-b"], rateItems(1000))
		e.advance(10 * time.Millisecond)
		// Admitted with one token; its 999 others put the bucket in debt.
		e.must(201, "POST", a+"/records", e.key["acct-a"], rateItems(1000))
		e.mustLimited("POST", a+"/records", e.key["acct-a"], rateItems(1), 10)
		// A refused batch (invalid) is charged too: it was decoded.
		e.advance(10 * time.Second)
		e.must(http.StatusUnprocessableEntity, "POST", a+"/records", e.key["acct-a"], map[string]any{"records": make([]any, 500)})
		e.mustLimited("POST", a+"/records", e.key["acct-a"], rateItems(1), 5)
		// Reads are another class.
		e.must(200, "GET", a+"/records", e.token["acct-a"], nil)
	})

	t.Run("ErrReadsCountRequests", func(t *testing.T) {
		e := newRateEnv(t, RateLimit{}, RateLimit{Rate: 0.5, Burst: 3})
		a := "/api/v1/accounts/acct-a"
		e.must(200, "GET", a+"/records", e.token["acct-a"], nil)
		e.must(200, "GET", a+"/records/count", e.token["acct-a"], nil)
		e.must(200, "GET", a+"/checkpoint", e.token["acct-a"], nil)
		e.mustLimited("GET", a+"/records/export.csv", e.token["acct-a"], nil, 2)
		e.mustLimited("GET", "/api/v1/checkpoint-key", e.token["acct-a"], nil, 2)
		// The LiveEngage-compatible routes count against the account of
		// their path.
		le := "/api/account/acct-a/configuration/metadata/audit"
		e.mustLimited("POST", le, e.token["acct-a"], map[string]any{"query": "{auditData {objectType}}"}, 2)
		e.mustLimited("GET", le+"/export", e.token["acct-a"], nil, 2)
		// Other accounts, and what is not a read, are not held back.
		e.must(200, "GET", "/api/v1/accounts/acct-b/records", e.token["acct-b"], nil)
		e.must(201, "POST", a+"/records", e.key["acct-a"], rateItems(1))
		e.must(200, "GET", a+"/users", e.token["acct-a"], nil)
		// Requests the route refuses are not counted: a stranger cannot
		// spend the account's budget, on either API.
		e.must(404, "GET", a+"/records", e.token["acct-b"], nil)
		e.must(401, "GET", a+"/records", "", nil)
		e.must(404, "POST", le, e.token["acct-b"], map[string]any{"query": "{auditData {objectType}}"})
		e.must(401, "POST", le, "nonsense", map[string]any{"query": "{auditData {objectType}}"})
		e.advance(2 * time.Second)
		e.must(200, "POST", le, e.token["acct-a"], map[string]any{"query": "{auditData {objectType}}"})
		e.mustLimited("GET", a+"/records", e.token["acct-a"], nil, 2)
	})

	t.Run("OKOff", func(t *testing.T) {
		e := newRateEnv(t, RateLimit{}, RateLimit{})
		for range 10 {
			e.must(201, "POST", "/api/v1/accounts/acct-a/records", e.key["acct-a"], rateItems(1000))
			e.must(200, "GET", "/api/v1/accounts/acct-a/records/count", e.token["acct-a"], nil)
		}
	})
}

// countingStore counts the credential look-ups of its store.
type countingStore struct {
	audittrail.Store
	mu    sync.Mutex
	calls int
}

func (s *countingStore) Authenticate(ctx context.Context, hash []byte) (*audittrail.Principal, error) {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	return s.Store.Authenticate(ctx, hash)
}

// TestLiveEngageAuthenticatesOnce checks that a LiveEngage request looks
// its credential up once, and that its exports take the slots of the
// native exports.
func TestLiveEngageAuthenticatesOnce(t *testing.T) {
	counting := &countingStore{}
	e := newRateEnv(t, RateLimit{Rate: 100, Burst: 1000}, RateLimit{Rate: 100, Burst: 1000}, func(s audittrail.Store) audittrail.Store {
		counting.Store = s
		return counting
	})
	counting.calls = 0
	e.must(200, "POST", "/api/account/acct-a/configuration/metadata/audit", e.token["acct-a"], map[string]any{"query": "{auditData {changeDate}}"})
	if counting.calls != 1 {
		t.Errorf("credential look-ups for one LiveEngage request: got %d, want 1", counting.calls)
	}

	// Both slots of acct-a taken by native exports: LiveEngage's is refused.
	for range export.MaxPerAccount {
		release, err := e.srv.svc.AcquireExportSlot("acct-a")
		if err != nil {
			t.Fatal(err)
		}
		defer release()
	}
	w := e.serve("GET", "/api/account/acct-a/configuration/metadata/audit/export", e.token["acct-a"], nil)
	if w.Code != http.StatusTooManyRequests || !strings.Contains(w.Body.String(), audittrail.EEXPORTBUSY) {
		t.Errorf("LiveEngage export while native exports hold every slot: got %d %s, want 429 %s", w.Code, w.Body, audittrail.EEXPORTBUSY)
	}
}
