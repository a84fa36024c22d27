package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestGracefulStop sends SIGTERM to a server under a steady load of
// writers, while one more request is in flight with half its body sent.
// Requests that arrive after the signal — /readyz, /healthz, reads and
// writes — answer 503 unavailable in the contract's error body, while the
// process keeps listening for as long as the request in flight runs; that
// request, once its body is complete, answers 201 as usual; the process
// exits 0 well within its drain timeout; and, started again, the server
// holds every acknowledged record once and none of the refused ones, in an
// unbroken log that `audittrail verify` accepts.
func TestGracefulStop(t *testing.T) {
	t.Parallel()
	const drainTimeout = 2 * time.Minute // far above what the steps below take, loaded
	srv := MustStart(t, "--drain-timeout", drainTimeout.String())
	a := srv.MustAccount(t, "graceful", true)
	l := newLoad(srv.URL, a)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() { l.writeOnce(t, w, stop) })
	}
	// A steady load: some batches acknowledged, however long they take.
	waitFor(t, "4 batches acknowledged", time.Minute, func() bool { return l.stats().Batches >= 4 })

	slowItems := []map[string]any{loadItem(loadPrefix + "slow-0"), loadItem(loadPrefix + "slow-1")}
	// Once startSlowPost returns, the server's handler is reading the body
	// (it asked for it with 100 Continue): the request is in flight.
	slow := startSlowPost(t, srv.URL+a.path("/records"), a.Key, records(slowItems...))

	signalled := time.Now()
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.cmd.Wait() }()

	// Once the signal is taken, /readyz says so, and every new request is
	// answered 503 while the request in flight holds the drain open.
	waitFor(t, "/readyz 503 after SIGTERM", time.Minute, func() bool { return srv.Do(t, "GET", "/readyz", "", nil).Status == 503 })
	MustError(t, srv.Do(t, "GET", "/readyz", "", nil), 503, "unavailable")
	MustError(t, srv.Do(t, "GET", "/healthz", "", nil), 503, "unavailable")
	MustError(t, srv.Do(t, "GET", a.path("/records"), a.AdminToken, nil), 503, "unavailable")
	late := loadItem(loadPrefix + "late")
	MustError(t, srv.PostRecords(t, a, late), 503, "unavailable")
	if resp, err := http.Get(srv.URL + "/api/v1/openapi.json"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != 503 || !resp.Close {
			t.Errorf("while draining: got status %d, Connection: close %v, want 503 and true", resp.StatusCode, resp.Close)
		}
	}
	l.mu.Lock()
	l.refused[late["id"].(string)] = true
	l.mu.Unlock()
	// The writers are refused too, as soon as their requests in flight
	// end, however long they take.
	waitFor(t, "a 503 for the writers while draining", time.Minute, func() bool { return l.stats().Statuses[503] > 0 })
	select {
	case err := <-exited:
		t.Fatalf("the process exited with a request in flight: %v", err)
	default:
	}

	// The request in flight ends as usual.
	sr := slow.finish(t)
	if sr.Status != 201 {
		t.Fatalf("request in flight at SIGTERM: got status %d, want 201: %s", sr.Status, sr.Body)
	}
	l.ack(t, slowItems, sr, 1, time.Now())

	// Then the process exits 0, within the drain timeout.
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if errors.As(err, &ee) || err != nil {
			t.Fatalf("exit: got %v, want exit code 0; logs:\n%s", err, srv.Logs())
		}
	case <-time.After(drainTimeout + 5*time.Second):
		t.Fatalf("the process did not exit within the drain timeout (%s)", drainTimeout)
	}
	took := time.Since(signalled)
	if took > drainTimeout {
		t.Errorf("exit %s after SIGTERM, want within the drain timeout (%s)", took, drainTimeout)
	}
	close(stop)
	wg.Wait()
	if !strings.Contains(srv.Logs(), "stopping: new requests are answered 503") {
		t.Errorf("logs: got no line about stopping:\n%s", srv.Logs())
	}

	again := MustStartIn(t, srv.Data)
	recs := again.exportAll(t, a)
	mustStoredOnce(t, recs, l.acked, l.refused)
	again.Stop(t)
	mustStorageIntact(t, srv.Data)
	mustVerify(t, srv.Data, a.ID)

	s := l.stats()
	if s.Unexpected > 0 {
		t.Errorf("answers other than 201 and 503 unavailable: %d (%v)", s.Unexpected, s.Statuses)
	}
	if s.Statuses[503] == 0 {
		t.Errorf("the writers got no 503 while the server drained, want some (%v)", s.Statuses)
	}
	t.Logf("exited %s after SIGTERM; writers: %d records in %d batches acknowledged, %d items refused with 503, %d connection errors once the listener closed",
		took.Round(time.Millisecond), s.Records, s.Batches, len(l.refused)-1, s.TransportErrors)
}

// TestGracefulStopDelay checks --drain-delay: with no request in flight,
// the server still answers 503 for the delay after SIGTERM, so that a load
// balancer polling /readyz stops sending, then exits 0.
func TestGracefulStopDelay(t *testing.T) {
	t.Parallel()
	// The delay is long enough that the polls below see it on a loaded
	// machine; the test asserts no upper bound on the exit.
	const delay = 3 * time.Second
	srv := MustStart(t, "--drain-delay", delay.String())
	signalled := time.Now()
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.cmd.Wait() }()
	// /readyz answers 200 until the signal is taken, then 503 for the
	// delay at least.
	waitFor(t, "/readyz 503 after SIGTERM", time.Minute, func() bool {
		r, err := doRaw(srv, "GET", "/readyz", "", nil)
		if err != nil {
			t.Fatalf("/readyz after SIGTERM, within the drain delay: %v", err)
		}
		return r.Status == 503
	})
	MustError(t, srv.Do(t, "GET", "/readyz", "", nil), 503, "unavailable")
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: got %v, want exit code 0", err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("the process did not exit within a minute")
	}
	if took := time.Since(signalled); took < delay {
		t.Fatalf("exit %s after SIGTERM, want after the drain delay (%s)", took, delay)
	}
}

// writeOnce is writer w of the graceful-stop test: until stop, it posts
// batches of 1 to 20 items, each once, and notes what it is told: 201
// acknowledged, 503 unavailable refused (never stored), or no answer at
// all once the listener is closed.
func (l *load) writeOnce(tb testing.TB, w int, stop <-chan struct{}) {
	for b := 0; ; b++ {
		select {
		case <-stop:
			return
		default:
		}
		items := loadBatch(w, b, 1+b%20)
		r, err := l.post(items)
		switch {
		case err != nil:
			l.count(0, true, false)
			time.Sleep(20 * time.Millisecond)
		case r.Status == 201:
			l.count(r.Status, false, false)
			l.ack(tb, items, r, 1, time.Now())
		case r.Status == 503 && r.ErrorCode() == "unavailable":
			l.count(r.Status, false, false)
			l.mu.Lock()
			for _, it := range items {
				l.refused[it["id"].(string)] = true
			}
			l.mu.Unlock()
		default:
			l.count(r.Status, false, true)
			tb.Errorf("writer %d: got status %d, want 201 or 503 unavailable: %s", w, r.Status, r.Body)
			return
		}
	}
}

// slowPost is a request whose body is sent in two halves.
type slowPost struct {
	pw   *io.PipeWriter
	rest []byte
	done chan slowResult
}

type slowResult struct {
	r   *Response
	err error
}

// startSlowPost starts a POST of body to url and sends the first half of
// the body.
func startSlowPost(tb testing.TB, url, key string, body any) *slowPost {
	tb.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		tb.Fatal(err)
	}
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", url, pr)
	if err != nil {
		tb.Fatal(err)
	}
	req.ContentLength = int64(len(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	// The transport sends the body only once the server's handler asks for
	// it (100 Continue): the first half written means the request is in
	// the handler, whatever the time the server took to get there.
	req.Header.Set("Expect", "100-continue")
	s := &slowPost{pw: pw, rest: b[len(b)/2:], done: make(chan slowResult, 1)}
	go func() {
		client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}, Timeout: 2 * time.Minute}
		resp, err := client.Do(req)
		if err != nil {
			s.done <- slowResult{err: err}
			return
		}
		defer resp.Body.Close()
		rb, err := io.ReadAll(resp.Body)
		s.done <- slowResult{r: &Response{Status: resp.StatusCode, Header: resp.Header, Body: rb}, err: err}
	}()
	if _, err := pw.Write(b[:len(b)/2]); err != nil {
		tb.Fatal(err)
	}
	return s
}

// finish sends the rest of the body and returns the answer.
func (s *slowPost) finish(tb testing.TB) *Response {
	tb.Helper()
	if _, err := io.Copy(s.pw, bytes.NewReader(s.rest)); err != nil {
		tb.Fatal(err)
	}
	s.pw.Close()
	res := <-s.done
	if res.err != nil {
		tb.Fatalf("request in flight: %v", res.err)
	}
	return res.r
}
