package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// wide returns an object of n keys, each with value v.
func wide(n int, v string) map[string]any {
	m := make(map[string]any, n)
	for i := range n {
		m[fmt.Sprintf("k%05d", i)] = v
	}
	return m
}

// TestRecordsPerRequest checks SPEC §6 Limits: one request stores at most
// 10,000 records; a batch of changes that works out to more is refused
// whole with batch_too_large and its count, and nothing is stored. At the
// limit the batch is stored.
func TestRecordsPerRequest(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "wide", true)
	t.Run("ErrOverTheLimit", func(t *testing.T) {
		e := MustError(t, srv.PostChanges(t, a,
			chg("object_type", "skills", "object_id", "s1", "before", nil, "after", wide(6000, "x")),
			chg("object_type", "skills", "object_id", "s2", "before", nil, "after", wide(6000, "y"))), 422, "batch_too_large")
		if !strings.Contains(e.Message, "12000") || !strings.Contains(e.Message, "10000") {
			t.Errorf("message %q: want the count (12000) and the limit (10000)", e.Message)
		}
		if n := srv.Count(t, a, vals("object_type", "skills")); n != 0 {
			t.Errorf("records stored by the refused batch: %d", n)
		}
	})
	t.Run("OKAtTheLimit", func(t *testing.T) {
		// Another account writes one record while the largest request
		// runs: it waits for one transaction of at most 10,000 records, and
		// is stored (the figures are logged, not asserted: docs/SECURITY.md).
		b := srv.MustAccount(t, "beside", true)
		done := make(chan time.Duration)
		start := time.Now()
		go func() {
			time.Sleep(20 * time.Millisecond)
			t0 := time.Now()
			srv.MustRecords(t, b, rec())
			done <- time.Since(t0)
		}()
		recs := srv.MustChanges(t, a,
			chg("object_type", "skills", "object_id", "s1", "before", nil, "after", wide(5000, "x")),
			chg("object_type", "skills", "object_id", "s2", "before", nil, "after", wide(5000, "y")))
		big := time.Since(start)
		small := <-done
		if len(recs) != 10000 {
			t.Errorf("records: got %d, want 10000", len(recs))
		}
		t.Logf("10,000-record request: %v; another account's 1-record write beside it: %v", big, small)
	})
}

// TestIngestRateCountsRecords checks SPEC §6: the ingestion rate limit
// counts records, not requests or changes. With a bucket of 1,000 records
// refilled at 1 a second (any machine exceeds it), one change that works
// out to 1,500 records empties it, and the account's next write waits.
func TestIngestRateCountsRecords(t *testing.T) {
	t.Parallel()
	srv := MustStart(t, "--rate-ingest", "1", "--rate-ingest-burst", "1000")
	a := srv.MustAccount(t, "counted", true)
	srv.MustChanges(t, a, chg("object_type", "skills", "object_id", "s1", "before", nil, "after", wide(1500, "x")))
	r := srv.PostChanges(t, a, chg("object_type", "skills", "object_id", "s2", "before", nil, "after", wide(1, "x")))
	MustError(t, r, 429, "too_many_requests")
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}

// TestLoginThrottleUnderConcurrency checks SPEC §5: the failed-login
// throttle counts an attempt before its password is checked, so 100 logins
// at once — 99 with a wrong password, one right — get at most 5 checks (5
// a minute); the others answer 429, whatever their password, and none
// answers 500.
func TestLoginThrottleUnderConcurrency(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "guessed", true)
	statuses := make(chan int, 100)
	var wg sync.WaitGroup
	for i := range 100 {
		password := "wrong guess"
		if i == 50 {
			password = "correct horse battery"
		}
		wg.Go(func() {
			statuses <- srv.Do(t, "POST", "/api/v1/login", "", map[string]string{"account_id": a.ID, "login_name": "admin", "password": password}).Status
		})
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if checked := count[200] + count[401]; checked > 5 || count[429]+count[503]+checked != 100 {
		t.Errorf("100 concurrent logins: %v; want at most 5 checked (200 or 401), the rest 429 (or 503 when the checks are busy)", count)
	}
}
