package e2e

import (
	"bufio"
	"bytes"
	endian "encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPGFault puts a TCP proxy between the server and PostgreSQL, and makes
// the database fail under writers that post batches with idempotency ids,
// each retried with the same ids until a 201, two ways:
//
//   - An outage: the proxy closes every connection and refuses new ones for
//     two seconds. Meanwhile every answer is 201 or 503 unavailable, within
//     answerBound; /readyz answers 503 and /healthz 200; a read answers 503.
//     Then the proxy lets connections through again: without a restart,
//     /readyz answers 200 within recoverBound, and the writers' retries
//     succeed.
//   - Cuts at COMMIT, over a long stream of appends: now and then the proxy
//     drops an append's connection just before it passes the COMMIT on (the
//     server rolls back), just after (the server commits, or not), or once
//     the server has answered the COMMIT, whose answer it then withholds
//     (committed, and the service cannot know: the "unknown outcome"); or
//     during the COPY of the records (the service runs the transaction
//     again on another connection). The service must answer 503 whenever
//     COMMIT got no answer, never 2xx; the retry then answers the records
//     first stored.
//
// Afterwards every acknowledged record is stored once, as answered; seq
// runs 0..n-1 without a gap; the stored items are exactly the acknowledged
// ones; and `audittrail verify` holds. About 7 s.
func TestPGFault(t *testing.T) {
	t.Parallel()
	if !onPostgres() {
		t.Skip("cuts the connections to a PostgreSQL server (runs in the PostgreSQL pass)")
	}
	const (
		writers = 4
		// No bound below is a speed: each is far above what a loaded
		// machine takes, and catches a request or a recovery that hangs.
		outage       = 2 * time.Second  // at least; until the writers got a 503
		maxOutage    = time.Minute      // at most
		answerBound  = 30 * time.Second // the longest any request may take
		recoverBound = time.Minute      // from the end of the outage to /readyz 200
		cutEvery     = 4                // cut one append in this many, while cutting
		cutFor       = 3 * time.Second  // at least; until each kind of cut happened twice
		maxCutFor    = 2 * time.Minute  // at most
	)

	dir := t.TempDir()
	dbURL, err := url.Parse(schemaURL(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	p := startPGProxy(t, dbURL.Host)
	dbURL.Host = p.addr()
	// The last --db wins: the server reaches the database through the proxy
	// only; verify, below, goes straight to it.
	srv := MustStartIn(t, dir, "--db", dbURL.String())
	a := srv.MustAccount(t, "pgfault", true)
	l := newLoad(srv.URL, a)
	l.client = &http.Client{Timeout: 2 * answerBound}
	o := &faultObserver{messages: map[string]int{}}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() { o.write(t, l, w, stop) })
	}
	waitFor(t, "the writers' first batches", time.Minute, func() bool { return l.stats().Batches >= writers })

	// The outage.
	before := l.stats()
	p.cut()
	cutAt := time.Now()
	polls := 0
	for refused := func() bool { return l.stats().Statuses[503] > before.Statuses[503] }; (time.Since(cutAt) < outage || !refused()) && time.Since(cutAt) < maxOutage; {
		if r := srv.Do(t, "GET", "/readyz", "", nil); r.Status != 503 || r.ErrorCode() != "unavailable" {
			t.Errorf("/readyz during the outage: got %d, want 503 unavailable: %s", r.Status, r.Body)
		} else if polls == 0 {
			t.Logf("/readyz %s after the cut: %s", time.Since(cutAt).Round(time.Millisecond), bytes.TrimSpace(r.Body))
		}
		if r := srv.Do(t, "GET", "/healthz", "", nil); r.Status != 200 {
			t.Errorf("/healthz during the outage: got %d, want 200: %s", r.Status, r.Body)
		}
		if polls == 3 {
			if r := srv.Do(t, "GET", a.path("/records/count"), a.AdminToken, nil); r.Status != 503 || r.ErrorCode() != "unavailable" {
				t.Errorf("a read during the outage: got %d, want 503 unavailable: %s", r.Status, r.Body)
			}
		}
		polls++
		time.Sleep(100 * time.Millisecond)
	}
	during := l.stats()
	p.restore()
	restoredAt := time.Now()
	waitFor(t, "/readyz 200 after the outage", recoverBound, func() bool {
		return srv.Do(t, "GET", "/readyz", "", nil).Status == 200
	})
	readyAfter := time.Since(restoredAt)
	waitFor(t, "batches acknowledged after the outage", recoverBound, func() bool {
		return l.stats().Batches >= during.Batches+writers
	})
	if n := during.Statuses[503] - before.Statuses[503]; n == 0 {
		t.Errorf("got no 503 during the outage, want the writers refused")
	}
	if during.Batches > before.Batches+writers {
		// A batch whose COMMIT was answered just before the cut may be
		// acknowledged; more than one per writer is not an outage.
		t.Errorf("batches acknowledged during the outage: got %d, want at most %d", during.Batches-before.Batches, writers)
	}

	// Cuts at COMMIT, in a long stream.
	beforeCuts := l.stats()
	p.cutEvery.Store(cutEvery)
	cutFrom := time.Now()
	for n := p.cutCounts(); time.Since(cutFrom) < cutFor || slices.Min(n[:]) < 2; n = p.cutCounts() {
		if time.Since(cutFrom) > maxCutFor {
			break // too few appends: the checks below say so
		}
		time.Sleep(50 * time.Millisecond)
	}
	cutTook := time.Since(cutFrom)
	p.cutEvery.Store(0)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait() // each writer finishes its batch
	cuts := p.cutCounts()

	s := l.stats()
	o.mu.Lock()
	bad, maxAnswer, messages := o.bad, o.maxAnswer, o.messages
	o.mu.Unlock()
	for i, b := range bad {
		if i == 10 {
			t.Errorf("... and %d more", len(bad)-10)
			break
		}
		t.Errorf("%s", b)
	}
	if maxAnswer > answerBound {
		t.Errorf("slowest answer: got %s, want at most %s", maxAnswer.Round(time.Millisecond), answerBound)
	}
	for m, n := range cuts {
		if n == 0 {
			t.Errorf("cuts %s: got none, want some (too few appends while cutting?)", cutNames[m])
		}
	}
	// Each withheld COMMIT answer stored a batch whose writer got a 503;
	// its retry answered the records first stored (ack counts it).
	if s.Replayed < cuts[cutAfterCommitDone] {
		t.Errorf("batches stored by an attempt answered 503: got %d, want at least the %d COMMIT answers withheld", s.Replayed, cuts[cutAfterCommitDone])
	}
	// Each cut at COMMIT is a write whose outcome the service cannot know:
	// a 503 that says so.
	unknown, atCommit := 0, cuts[cutBeforeCommit]+cuts[cutAfterCommitSent]+cuts[cutAfterCommitDone]
	for m, n := range messages {
		if strings.Contains(m, "may or may not be stored") {
			unknown += n
		}
	}
	if unknown < atCommit {
		t.Errorf("503s saying that a write may or may not be stored: got %d, want one for each of the %d cuts at COMMIT; 503 messages: %v", unknown, atCommit, messages)
	}

	// A cut during the COPY, before COMMIT, is run again by the service on
	// another connection: the writer never hears of it.
	if n := s.Statuses[503] - beforeCuts.Statuses[503]; n >= atCommit+cuts[cutDuringCopy] {
		t.Errorf("503s while cutting: got %d, want fewer than one per cut (%d at COMMIT, %d during the COPY, which the service runs again)", n, atCommit, cuts[cutDuringCopy])
	}

	recs := srv.exportAll(t, a)
	mustStoredOnce(t, recs, l.acked, nil)
	if got := countLoad(recs); got != len(l.acked) {
		t.Errorf("records of the load: got %d, want the %d acknowledged", got, len(l.acked))
	}
	if n := srv.Count(t, a, nil); n != len(recs) {
		t.Errorf("count: got %d, want the %d records exported", n, len(recs))
	}
	for _, bad := range []string{"internal error", "panic"} {
		if strings.Contains(srv.Logs(), bad) {
			t.Errorf("server logs hold %q:\n%s", bad, srv.Logs())
		}
	}
	srv.Stop(t)
	summary := mustVerify(t, dir, a.ID)

	var kinds []string
	for m, n := range messages {
		kinds = append(kinds, fmt.Sprintf("%d× %q", n, m))
	}
	sort.Strings(kinds)
	t.Logf("outage of %s: %d batches refused with 503, %d connections refused by the proxy; /readyz 200 %s after the proxy came back",
		outage, during.Statuses[503]-before.Statuses[503], p.refused.Load(), readyAfter.Round(time.Millisecond))
	t.Logf("cuts over %s of appends: %d before COMMIT, %d just after COMMIT was sent, %d with the COMMIT's answer withheld, %d during the COPY; %d batches answered 503 meanwhile",
		cutTook.Round(time.Millisecond), cuts[cutBeforeCommit], cuts[cutAfterCommitSent], cuts[cutAfterCommitDone], cuts[cutDuringCopy], s.Statuses[503]-beforeCuts.Statuses[503])
	t.Logf("%d records in %d batches acknowledged; %d batches needed a retry, %d of them stored by an attempt answered 503; statuses %v; slowest answer %s; %s",
		s.Records, s.Batches, s.Retried, s.Replayed, s.Statuses, maxAnswer.Round(time.Millisecond), strings.TrimSpace(summary))
	t.Logf("503 messages: %s", strings.Join(kinds, "; "))
}

// waitFor polls cond every 20 ms until it holds, and fails the test if it
// does not within d.
func waitFor(tb testing.TB, what string, d time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// faultObserver notes what the writers of TestPGFault were told that no
// answer may be: anything but 201 and 503 unavailable, and slow answers.
type faultObserver struct {
	mu        sync.Mutex
	bad       []string
	maxAnswer time.Duration
	messages  map[string]int // of the 503s, by message
}

// write is writer w: until stop, it posts batches of 1 to 20 items, each
// retried with the same ids until a 201.
func (o *faultObserver) write(tb testing.TB, l *load, w int, stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
	for b := 0; ; b++ {
		select {
		case <-stop:
			return
		default:
		}
		items := loadBatch(w, b, 1+rng.IntN(20))
		deadline := time.Now().Add(3 * time.Minute)
		for attempt := 1; ; attempt++ {
			if time.Now().After(deadline) {
				tb.Errorf("writer %d: batch %d not acknowledged within 3 min", w, b)
				return
			}
			sent := time.Now()
			r, err := l.post(items)
			took := time.Since(sent)
			o.mu.Lock()
			o.maxAnswer = max(o.maxAnswer, took)
			switch {
			case err != nil:
				o.bad = append(o.bad, fmt.Sprintf("writer %d: batch %d: %v after %s", w, b, err, took))
			case r.Status == 503 && r.ErrorCode() == "unavailable":
				var e struct {
					Error struct{ Message string } `json:"error"`
				}
				json.Unmarshal(r.Body, &e)
				o.messages[e.Error.Message]++
			case r.Status != 201:
				o.bad = append(o.bad, fmt.Sprintf("writer %d: batch %d: got %d, want 201 or 503 unavailable: %s", w, b, r.Status, r.Body))
			}
			o.mu.Unlock()
			if err != nil {
				l.count(0, true, true)
				time.Sleep(50 * time.Millisecond)
				continue
			} else if r.Status != 201 {
				l.count(r.Status, false, r.Status != 503)
				time.Sleep(time.Duration(20+rng.IntN(20)) * time.Millisecond)
				continue
			}
			l.count(r.Status, false, false)
			l.ack(tb, items, r, attempt, sent)
			break
		}
	}
}

// cutMode is where the proxy cuts an append's connection.
type cutMode int

const (
	cutDuringCopy      cutMode = iota // instead of passing the COPY of the records on
	cutBeforeCommit                   // instead of passing the COMMIT on
	cutAfterCommitSent                // once it passed the COMMIT on
	cutAfterCommitDone                // at the server's answer to COMMIT, withheld
	numCutModes
)

var cutNames = [numCutModes]string{"during the COPY", "before COMMIT", "just after COMMIT was sent", "with the COMMIT's answer withheld"}

// pgProxy is a TCP proxy in front of a PostgreSQL server that reads the
// wire protocol's messages as it passes them on, so that it can cut a
// connection at a chosen message. It can also cut every connection and
// refuse new ones (accepting and closing them at once) until restored.
type pgProxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu    sync.Mutex
	down  bool
	conns map[*proxyConn]struct{}

	refused  atomic.Int64 // connections refused while down
	cutEvery atomic.Int64 // cut one append in this many; 0: none
	appends  atomic.Int64 // appends seen while cutting
	cuts     [numCutModes]atomic.Int64
}

// proxyConn is a client's connection and the proxy's to the server.
type proxyConn struct {
	client, server net.Conn
	once           sync.Once
	swallow        atomic.Bool // cut at the server's answer to COMMIT
}

func (c *proxyConn) close() {
	c.once.Do(func() {
		c.client.Close()
		c.server.Close()
	})
}

// startPGProxy listens on 127.0.0.1:0 and passes connections on to target
// until the test ends.
func startPGProxy(tb testing.TB, target string) *pgProxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &pgProxy{ln: ln, target: target, conns: map[*proxyConn]struct{}{}}
	p.wg.Go(p.accept)
	tb.Cleanup(func() { // after the server has stopped
		ln.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *pgProxy) addr() string { return p.ln.Addr().String() }

// cut closes every connection, and refuses new ones until restore.
func (p *pgProxy) cut() {
	p.mu.Lock()
	p.down = true
	conns := p.conns
	p.conns = map[*proxyConn]struct{}{}
	p.mu.Unlock()
	for c := range conns {
		c.close()
	}
}

// restore lets new connections through again.
func (p *pgProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// cutCounts returns how many connections were cut at each place.
func (p *pgProxy) cutCounts() [numCutModes]int {
	var n [numCutModes]int
	for m := range n {
		n[m] = int(p.cuts[m].Load())
	}
	return n
}

func (p *pgProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			p.refused.Add(1)
			c.Close()
			continue
		}
		s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		pc := &proxyConn{client: c, server: s}
		p.mu.Lock()
		if p.down { // cut meanwhile
			p.mu.Unlock()
			pc.close()
			continue
		}
		p.conns[pc] = struct{}{}
		p.mu.Unlock()
		p.wg.Go(func() { p.clientToServer(pc) })
		p.wg.Go(func() { p.serverToClient(pc) })
	}
}

func (p *pgProxy) forget(pc *proxyConn) {
	pc.close()
	p.mu.Lock()
	delete(p.conns, pc)
	p.mu.Unlock()
}

// pickCut returns where to cut an append that begins, or -1.
func (p *pgProxy) pickCut() cutMode {
	every := p.cutEvery.Load()
	if every <= 0 {
		return -1
	}
	n := p.appends.Add(1)
	if n%every != 0 {
		return -1
	}
	return cutMode((n / every) % int64(numCutModes))
}

// clientToServer passes the client's messages on. An append is a
// transaction that copies records (`copy "records" ... from stdin`, a
// simple query, as pgx's CopyFrom sends it); its COMMIT is the simple query
// `commit` that follows (pgx's Tx.Commit).
func (p *pgProxy) clientToServer(pc *proxyConn) {
	defer p.forget(pc)
	r := bufio.NewReaderSize(pc.client, 64<<10)
	w := bufio.NewWriterSize(pc.server, 64<<10)
	var buf []byte
	// The startup message, or a cancel request, has no type byte.
	msg, err := readPGMessage(r, buf, false)
	if err != nil {
		return
	}
	if _, err := w.Write(msg); err != nil || w.Flush() != nil {
		return
	}
	mode := cutMode(-1) // where to cut the append under way
	for {
		if msg, err = readPGMessage(r, msg[:0], true); err != nil {
			return
		}
		cutNow := false
		if msg[0] == 'Q' {
			q := strings.ToLower(string(msg[5:min(len(msg), 5+32)]))
			switch {
			case strings.HasPrefix(q, `copy "records"`):
				if mode = p.pickCut(); mode == cutDuringCopy {
					cutNow = true
				}
			case strings.HasPrefix(q, "commit"):
				switch mode {
				case cutBeforeCommit:
					cutNow = true
				case cutAfterCommitDone:
					pc.swallow.Store(true)
				}
			case strings.HasPrefix(q, "begin"), strings.HasPrefix(q, "rollback"):
				mode = -1
			}
		}
		if cutNow {
			p.cuts[mode].Add(1)
			return
		}
		if _, err := w.Write(msg); err != nil {
			return
		}
		if r.Buffered() == 0 || mode == cutAfterCommitSent {
			if err := w.Flush(); err != nil {
				return
			}
		}
		if mode == cutAfterCommitSent && msg[0] == 'Q' && bytes.HasPrefix(bytes.ToLower(msg[5:]), []byte("commit")) {
			p.cuts[mode].Add(1)
			return
		}
	}
}

// serverToClient passes the server's messages on, except the answer to a
// COMMIT that clientToServer asked to withhold: there it cuts.
func (p *pgProxy) serverToClient(pc *proxyConn) {
	defer p.forget(pc)
	r := bufio.NewReaderSize(pc.server, 64<<10)
	w := bufio.NewWriterSize(pc.client, 64<<10)
	var msg []byte
	for {
		var err error
		if msg, err = readPGMessage(r, msg[:0], true); err != nil {
			return
		}
		if pc.swallow.Load() {
			switch {
			case msg[0] == 'C' && bytes.HasPrefix(msg[5:], []byte("COMMIT")):
				// Committed; the client will never know.
				p.cuts[cutAfterCommitDone].Add(1)
				return
			case msg[0] == 'Z': // the COMMIT failed: nothing to withhold
				pc.swallow.Store(false)
			}
		}
		if _, err := w.Write(msg); err != nil {
			return
		}
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return
			}
		}
	}
}

// readPGMessage reads one message of the PostgreSQL wire protocol into buf
// and returns it whole: a type byte when typed, then a big-endian int32
// length that counts itself and the body, then the body.
func readPGMessage(r *bufio.Reader, buf []byte, typed bool) ([]byte, error) {
	head := 4
	if typed {
		head = 5
	}
	buf = append(buf[:0], make([]byte, head)...)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	n := int(endian.BigEndian.Uint32(buf[head-4:]))
	if n < 4 || n > 1<<30 {
		return nil, fmt.Errorf("pgproxy: message length %d", n)
	}
	total := head + n - 4
	if cap(buf) < total {
		nb := make([]byte, head, total)
		copy(nb, buf)
		buf = nb
	}
	buf = buf[:total]
	if _, err := io.ReadFull(r, buf[head:]); err != nil {
		return nil, err
	}
	return buf, nil
}
