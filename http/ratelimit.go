package http

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/ingest"
	"golang.org/x/time/rate"
)

// RateLimit is one class's limit per account: a token bucket that refills
// at Rate tokens a second and holds at most Burst. A zero Rate is no limit.
type RateLimit struct {
	Rate  float64
	Burst int
}

// Off reports whether the limit lets everything through.
func (l RateLimit) Off() bool { return l.Rate <= 0 }

func (l RateLimit) String() string {
	if l.Off() {
		return "off"
	}
	return fmt.Sprintf("%g/s, burst %d", l.Rate, l.Burst)
}

// The default limits of each account. They are generous: they stop a
// runaway client, not a busy one. Ingestion counts items (records on
// /records, changes on /changes): 10,000 a second sustained, 200 full batches
// at once. Reads count requests: 200 a second sustained, and 10,000 at
// once, so that an auditor can check thousands of inclusion and
// consistency proofs in one go.
var (
	DefaultIngestLimit = RateLimit{Rate: 10_000, Burst: 200_000}
	DefaultReadLimit   = RateLimit{Rate: 200, Burst: 10_000}
)

// rateClass is what a request counts against.
type rateClass int

const (
	unlimited   rateClass = iota
	ingestion             // POST records and changes: counts items
	reads                 // the record, integrity and LiveEngage routes: counts requests
	rateClasses           // the number of classes
)

func (c rateClass) String() string { return [...]string{"unlimited", "ingestion", "read"}[c] }

// allowRate lets a request of the class for the account through, or
// answers 429 too_many_requests with Retry-After and returns false. A read
// costs one token; an ingestion request one now, before its body is read,
// and the rest of its items once they are decoded (chargeIngest).
func (s *Server) allowRate(w http.ResponseWriter, r *http.Request, class rateClass, account string) bool {
	wait := s.rates.take(class, account, s.svc.Now())
	if wait == 0 {
		return true
	}
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	unit := "requests"
	if class == ingestion {
		unit = "records or changes"
	}
	s.Error(w, r, audittrail.Errorf(audittrail.ETOOMANYREQUESTS, "account %s is over its %s limit of %g %s a second; try again in %s",
		account, class, s.rates.limits[class].Rate, unit, plural(secs, "second")))
	return false
}

// chargeIngest charges the items of an ingestion request after the first,
// which allowRate took; the bucket may go into debt, which the account's
// next requests wait out.
func (s *Server) chargeIngest(r *http.Request, items int) {
	if account := r.PathValue("account"); account != "" && items > 1 {
		s.rates.charge(ingestion, account, items-1, s.svc.Now())
	}
}

// rateLimiter holds a token bucket per account and class, made full on the
// account's first request and dropped by a sweep every sweepEvery requests
// once it is full again, when a new one would be the same: memory follows
// the accounts active lately (within the time a bucket takes to fill), not
// all there are. It lives in the process: with several replicas, each
// counts its own.
type rateLimiter struct {
	limits [rateClasses]RateLimit

	mu      sync.Mutex
	buckets map[bucketKey]*rate.Limiter
	ops     int
}

type bucketKey struct {
	class   rateClass
	account string
}

// sweepEvery is how many requests pass between two sweeps of idle buckets.
const sweepEvery = 1024

// newRateLimiter returns the limiter of the per-account limits of
// ingestion and of reads; a zero Rate turns a class off. An ingestion
// burst is raised to a full batch (ingest.MaxBatch items), which must
// always be possible.
func newRateLimiter(ingestLimit, readLimit RateLimit) *rateLimiter {
	if !ingestLimit.Off() {
		ingestLimit.Burst = max(ingestLimit.Burst, ingest.MaxBatch)
	}
	if !readLimit.Off() {
		readLimit.Burst = max(readLimit.Burst, 1)
	}
	limits := [rateClasses]RateLimit{ingestion: ingestLimit, reads: readLimit}
	return &rateLimiter{limits: limits, buckets: map[bucketKey]*rate.Limiter{}}
}

// take takes one token of the account's bucket of the class and returns 0,
// or, when there is none, takes nothing and returns how long until there
// is one.
func (l *rateLimiter) take(class rateClass, account string, now time.Time) time.Duration {
	lim := l.limiter(class, account, now)
	if lim == nil || lim.AllowN(now, 1) {
		return 0
	}
	missing := 1 - lim.TokensAt(now)
	return max(time.Millisecond, time.Duration(missing/l.limits[class].Rate*float64(time.Second)))
}

// charge takes n more tokens, going into debt if it must. n is capped at
// the burst, as no request may cost more than a full bucket.
func (l *rateLimiter) charge(class rateClass, account string, n int, now time.Time) {
	if lim := l.limiter(class, account, now); lim != nil {
		lim.ReserveN(now, min(n, lim.Burst()))
	}
}

// limiter returns the bucket of the account and class, made full on first
// use, or nil when the class has no limit.
func (l *rateLimiter) limiter(class rateClass, account string, now time.Time) *rate.Limiter {
	if l == nil || l.limits[class].Off() {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ops++; l.ops%sweepEvery == 0 {
		l.sweep(now)
	}
	k := bucketKey{class, account}
	b := l.buckets[k]
	if b == nil {
		b = rate.NewLimiter(rate.Limit(l.limits[class].Rate), l.limits[class].Burst)
		l.buckets[k] = b
	}
	return b
}

// sweep drops the buckets that are full again: a new one would be the same.
func (l *rateLimiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(b.Burst()) {
			delete(l.buckets, k)
		}
	}
}

// size returns the number of buckets held.
func (l *rateLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// plural returns "1 second", "2 seconds".
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
