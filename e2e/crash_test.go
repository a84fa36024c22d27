package e2e

// The reliability tests (docs/RELIABILITY.md): crashes here, a failing disk
// in disk_test.go, a graceful stop in shutdown_test.go. This file also holds
// what they share: a load of writers that count what they were told, the
// checks that what was acknowledged is stored once in an unbroken log, and
// the backend-specific checks of the storage itself.

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite" // opens the database file for integrity_check
)

// envLong asks for the long versions of the reliability tests.
const envLong = "AUDITTRAIL_TEST_LONG"

// long reports whether AUDITTRAIL_TEST_LONG asks for the long versions.
func long() bool { return os.Getenv(envLong) != "" }

// TestCrash kills the server with SIGKILL again and again, at random
// moments (some while it starts, the others while writers write), and
// restarts it on the same storage, while writers post batches with
// idempotency ids, each retried with the same ids until a 2xx. Each restart
// listens on a new port, which the writers then use: a port given up could
// be taken by another process meanwhile. Afterwards
// every acknowledged record is stored exactly once, as answered; seq runs
// 0..n-1 without a gap; SQLite's integrity_check passes, both on the state
// the last kill left and after a clean stop; and `audittrail verify` holds.
//
// 30 kills by default (about 25 s); AUDITTRAIL_TEST_LONG=1 makes it 500,
// AUDITTRAIL_TEST_KILLS=n makes it n.
func TestCrash(t *testing.T) {
	t.Parallel()
	kills, writers := 30, 4
	if long() {
		kills = 500
	}
	if n, err := strconv.Atoi(os.Getenv("AUDITTRAIL_TEST_KILLS")); err == nil && n > 0 {
		kills = n
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("seed %d, %d kills, %d writers", seed, kills, writers)

	srv := MustStart(t)
	a := srv.MustAccount(t, "crash", true)
	l := newLoad(srv.URL, a)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() { l.writeUntilAcked(t, w, stop) })
	}

	began := time.Now()
	startupKills := 0
	acked := 0 // batches acknowledged when the running server started
	for range kills {
		// Mostly soon after the start; sometimes after more than a second,
		// once the server signs checkpoints (every second).
		up := time.Duration(30+rng.IntN(400)) * time.Millisecond
		if rng.IntN(100) < 15 {
			up = time.Duration(1000+rng.IntN(400)) * time.Millisecond
		}
		time.Sleep(up)
		// Each server acknowledges a batch before it is killed, however
		// long it takes to start and answer on a loaded machine.
		waitFor(t, "a batch acknowledged by the running server", 2*time.Minute, func() bool { return l.stats().Batches > acked })
		l.setURL("") // the writers wait for the next server
		killServer(t, srv)
		if rng.IntN(5) == 0 {
			// This time, kill it while it opens the storage.
			killWhileStarting(t, srv, time.Duration(rng.IntN(150))*time.Millisecond)
			startupKills++
		}
		acked = l.stats().Batches
		srv.start(t)
		l.setURL(srv.URL)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait() // each writer finishes its batch on the running server
	elapsed := time.Since(began)

	// The state that the last kill leaves.
	killServer(t, srv)
	mustStorageIntact(t, srv.Data)

	srv.start(t)
	recs := srv.exportAll(t, a)
	mustStoredOnce(t, recs, l.acked, nil)
	if n := srv.Count(t, a, nil); n != len(recs) {
		t.Errorf("count: got %d, want the %d records exported", n, len(recs))
	}
	srv.Stop(t)
	mustStorageIntact(t, srv.Data)
	summary := mustVerify(t, srv.Data, a.ID)

	s := l.stats()
	if s.Unexpected > 0 {
		t.Errorf("answers other than 201, 503 and 429: %d (%v)", s.Unexpected, s.Statuses)
	}
	if s.Batches < kills {
		t.Errorf("batches acknowledged: got %d, want at least one per kill (%d)", s.Batches, kills)
	}
	t.Logf("%d kills (%d while starting) in %s; %d records in %d batches acknowledged; %d batches needed a retry, %d of them were stored by an attempt whose answer the kill lost; statuses %v, %d transport errors; %s",
		kills, startupKills, elapsed.Round(time.Millisecond), s.Records, s.Batches, s.Retried, s.Replayed, s.Statuses, s.TransportErrors, strings.TrimSpace(summary))
}

// killServer kills the server's process with SIGKILL and waits for it.
func killServer(tb testing.TB, s *Server) {
	tb.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		tb.Fatal(err)
	}
	s.cmd.Wait()
}

// killWhileStarting starts another server process on s's storage, and
// kills it after the delay, whether it listens yet or not.
func killWhileStarting(tb testing.TB, s *Server, after time.Duration) {
	tb.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0"}, s.StorageArgs(tb)...)...)
	cmd.Env = append(os.Environ(), "AUDITTRAIL_OPERATOR_TOKEN="+OperatorToken)
	cmd.Stderr = s.logs
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	time.Sleep(after)
	cmd.Process.Kill()
	cmd.Wait()
}

// load is a set of writers posting batches of record items to an account,
// and what they were told: the record answered for each acknowledged item,
// and the items refused with 503 before the server read them.
type load struct {
	url    atomic.Pointer[string] // the server's; "" while there is none
	path   string
	key    string
	client *http.Client

	mu      sync.Mutex
	acked   map[string]Record // by item id, which is also the record's object_id
	refused map[string]bool   // items answered 503 by a draining server: never stored
	st      loadStats
}

// loadStats counts what a load's writers saw.
type loadStats struct {
	Batches, Records int // acknowledged
	Retried          int // batches acknowledged after more than one attempt
	Replayed         int // of those, stored by an earlier attempt whose answer was lost
	Statuses         map[int]int
	TransportErrors  int
	Unexpected       int // answers that no test expects
}

func newLoad(url string, a *Account) *load {
	l := &load{
		path:    a.path("/records"),
		key:     a.Key,
		client:  &http.Client{Timeout: 30 * time.Second},
		acked:   map[string]Record{},
		refused: map[string]bool{},
		st:      loadStats{Statuses: map[int]int{}},
	}
	l.setURL(url)
	return l
}

// setURL sets the server's URL; "" makes the writers wait for one.
func (l *load) setURL(url string) { l.url.Store(&url) }

// errNoServer is what post answers while the load has no server.
var errNoServer = errors.New("no server")

// loadPrefix starts the id of every item a load sends.
const loadPrefix = "load-"

// loadItem returns a record item whose idempotency id is key, and whose
// object_id is key too, so that the stored record tells which item it is.
func loadItem(key string) map[string]any {
	return rec("id", key, "object_id", key, "new_value", "value of "+key)
}

// loadBatch returns the items of batch b of writer w.
func loadBatch(w, b, n int) []map[string]any {
	items := make([]map[string]any, n)
	for i := range items {
		items[i] = loadItem(fmt.Sprintf("%sw%d-b%d-r%d", loadPrefix, w, b, i))
	}
	return items
}

// post sends items once. It returns the answer, or the transport's error.
func (l *load) post(items []map[string]any) (*Response, error) {
	body, err := json.Marshal(records(items...))
	if err != nil {
		return nil, err
	}
	url := *l.url.Load()
	if url == "" {
		return nil, errNoServer
	}
	req, err := http.NewRequest("POST", url+l.path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+l.key)
	resp, err := l.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// ack notes the records of an acknowledged batch.
func (l *load) ack(tb testing.TB, items []map[string]any, r *Response, attempts int, sent time.Time) {
	tb.Helper()
	recs := decodeRecords(tb, r)
	if len(recs) != len(items) {
		tb.Errorf("batch of %d items: got %d records, want %d", len(items), len(recs), len(items))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.st.Batches++
	l.st.Records += len(recs)
	if attempts > 1 {
		l.st.Retried++
		// Stored before the attempt that was answered: by one whose answer
		// the kill lost, answered now through the idempotency ids.
		if len(recs) > 0 && mustTime(tb, recs[0].ReceivedAt).Before(sent.Add(-5*time.Millisecond)) {
			l.st.Replayed++
		}
	}
	for i, rc := range recs {
		if want := items[i]["id"]; rc.ObjectID != want {
			tb.Errorf("record %d of a batch: got object_id %s, want %s", i, rc.ObjectID, want)
		}
		if prev, ok := l.acked[rc.ObjectID]; ok && prev.ID != rc.ID {
			tb.Errorf("item %s: answered as record %s, and before as %s", rc.ObjectID, rc.ID, prev.ID)
		}
		l.acked[rc.ObjectID] = rc
	}
}

func (l *load) count(status int, transportErr bool, unexpected bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if transportErr {
		l.st.TransportErrors++
	} else {
		l.st.Statuses[status]++
	}
	if unexpected {
		l.st.Unexpected++
	}
}

func (l *load) stats() loadStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.st
	s.Statuses = map[int]int{}
	for k, v := range l.st.Statuses {
		s.Statuses[k] = v
	}
	return s
}

// mustAck posts items, retrying while the server is away, until a 201,
// and fails the test on any other answer.
func (l *load) mustAck(tb testing.TB, items []map[string]any) {
	tb.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for attempt := 1; ; attempt++ {
		sent := time.Now()
		r, err := l.post(items)
		if err == nil && r.Status == 201 {
			l.count(r.Status, false, false)
			l.ack(tb, items, r, attempt, sent)
			return
		}
		if err == nil {
			tb.Fatalf("POST records: got status %d, want 201: %s", r.Status, r.Body)
		}
		if time.Now().After(deadline) {
			tb.Fatalf("POST records: no answer within 2 min: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// writeUntilAcked is writer w of the crash test: until stop, it posts
// batches of 1 to 20 items, each retried with the same ids until a 201
// (through connection errors while the server is down, 503 and 429).
func (l *load) writeUntilAcked(tb testing.TB, w int, stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
	for b := 0; ; b++ {
		select {
		case <-stop:
			return
		default:
		}
		items := loadBatch(w, b, 1+rng.IntN(20))
		deadline := time.Now().Add(5 * time.Minute)
		for attempt := 1; ; attempt++ {
			if time.Now().After(deadline) {
				tb.Errorf("writer %d: batch %d not acknowledged within 5 min", w, b)
				return
			}
			sent := time.Now()
			r, err := l.post(items)
			if errors.Is(err, errNoServer) {
				time.Sleep(5 * time.Millisecond)
				continue
			} else if err != nil {
				l.count(0, true, false)
				time.Sleep(time.Duration(10+rng.IntN(20)) * time.Millisecond)
				continue
			}
			switch r.Status {
			case 201:
				l.count(r.Status, false, false)
				l.ack(tb, items, r, attempt, sent)
			case 429, 503:
				l.count(r.Status, false, false)
				time.Sleep(retryAfter(r, 50*time.Millisecond))
				continue
			default:
				l.count(r.Status, false, true)
				if r.Status < 500 {
					tb.Errorf("writer %d: batch %d: got status %d, want 201: %s", w, b, r.Status, r.Body)
					return
				}
				time.Sleep(50 * time.Millisecond)
				continue
			}
			break
		}
	}
}

// retryAfter returns how long an answer asks to wait, within one second,
// or def.
func retryAfter(r *Response, def time.Duration) time.Duration {
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err == nil && s > 0 {
		return min(time.Duration(s)*time.Second, time.Second)
	}
	return def
}

// exportAll reads every record of the account through the NDJSON export,
// in seq order.
func (s *Server) exportAll(tb testing.TB, a *Account) []Record {
	tb.Helper()
	r := s.Must(tb, 200, "GET", a.path("/records/export.ndjson"), a.AdminToken, nil)
	var recs []Record
	sc := bufio.NewScanner(bytes.NewReader(r.Body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rc Record
		if err := json.Unmarshal(sc.Bytes(), &rc); err != nil {
			tb.Fatalf("export line %d: %v: %s", len(recs)+1, err, sc.Bytes())
		}
		recs = append(recs, rc)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Seq < recs[j].Seq })
	return recs
}

// mustStoredOnce checks an account's records, in seq order: seq runs
// 0..n-1 without a gap; every item of a load is stored at most once; every
// acknowledged item is stored, as the record it was answered with (same id,
// same seq); no refused item is stored.
func mustStoredOnce(tb testing.TB, recs []Record, acked map[string]Record, refused map[string]bool) {
	tb.Helper()
	for i, r := range recs {
		if r.Seq != int64(i) {
			tb.Fatalf("record %d in seq order: got seq %d, want %d (seq must run 0..n-1 without a gap)", i, r.Seq, i)
		}
	}
	stored := map[string]Record{}
	for _, r := range recs {
		if !strings.HasPrefix(r.ObjectID, loadPrefix) {
			continue // the account's own audit records
		}
		if prev, ok := stored[r.ObjectID]; ok {
			tb.Errorf("item %s: stored twice, as seq %d and seq %d", r.ObjectID, prev.Seq, r.Seq)
		}
		stored[r.ObjectID] = r
	}
	lost := 0
	for id, want := range acked {
		got, ok := stored[id]
		switch {
		case !ok:
			if lost++; lost <= 10 {
				tb.Errorf("item %s: acknowledged as record %s (seq %d), not stored", id, want.ID, want.Seq)
			}
		case got.ID != want.ID || got.Seq != want.Seq:
			tb.Errorf("item %s: acknowledged as record %s (seq %d), stored as %s (seq %d)", id, want.ID, want.Seq, got.ID, got.Seq)
		}
	}
	if lost > 0 {
		tb.Errorf("%d of %d acknowledged items are not stored", lost, len(acked))
	}
	for id := range refused {
		if r, ok := stored[id]; ok {
			tb.Errorf("item %s: refused with 503, yet stored (seq %d)", id, r.Seq)
		}
	}
}

// mustStorageIntact checks the storage of the data directory dir itself,
// with no server running on it. On SQLite: PRAGMA integrity_check of the
// database file, opened read-only. PostgreSQL looks after its own pages;
// this checks nothing there (yet).
func mustStorageIntact(tb testing.TB, dir string) {
	tb.Helper()
	if onPostgres() {
		return
	}
	db, err := sql.Open("sqlite", "file:"+sqliteFile(dir)+"?mode=ro")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`PRAGMA integrity_check`)
	if err != nil {
		tb.Fatalf("integrity_check: %v", err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			tb.Fatal(err)
		}
		got = append(got, s)
	}
	if err := rows.Err(); err != nil {
		tb.Fatalf("integrity_check: %v", err)
	}
	if len(got) != 1 || got[0] != "ok" {
		tb.Fatalf("integrity_check: got %q, want [ok]", got)
	}
}

// sqliteFile is the database file in a data directory.
func sqliteFile(dir string) string { return filepath.Join(dir, "audittrail.db") }

// mustVerify runs `audittrail verify` on the account and fails the test
// unless it exits 0. It returns the command's summary.
func mustVerify(tb testing.TB, dir, account string) string {
	tb.Helper()
	stdout, stderr, code := run(tb, "verify", "--account", account, "--data", dir)
	if code != 0 {
		tb.Fatalf("verify: got exit code %d, want 0:\n%s%s", code, stdout, stderr)
	}
	return stderr
}
