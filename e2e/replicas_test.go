package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/transparency-dev/merkle/proof"
)

// TestReplicas runs two `audittrail serve` processes against one PostgreSQL
// database and writes to both at once (issue 7): every acknowledged record
// is stored once, seq is contiguous, both replicas serve one consistent
// checkpoint history signed with one key, and `audittrail verify` holds.
func TestReplicas(t *testing.T) {
	t.Parallel()
	if !onPostgres() {
		t.Skip("replicas share a PostgreSQL database; the embedded store is one process (runs in the PostgreSQL pass)")
	}
	r1 := MustStart(t)
	r2 := MustStartIn(t, r1.Data) // the same schema: a second replica
	replicas := []*Server{r1, r2}
	a := r1.MustAccount(t, "replicas", true)

	v1, key1 := r1.checkpointVerifier(t, a.AdminToken)
	if _, key2 := r2.checkpointVerifier(t, a.AdminToken); key2 != key1 {
		t.Fatalf("checkpoint keys differ: %q and %q; replicas must share one", key1, key2)
	}

	// Writers send batches with idempotency ids, each to one replica, and
	// retry a batch on the other replica now and then: a retry must answer
	// the records first stored.
	const writers, batches, perBatch = 6, 12, 5
	var (
		mu    sync.Mutex
		acked = map[string]Record{} // by record id
		wg    sync.WaitGroup
		fail  = make(chan string, writers*batches)
	)
	checkpoints := make(chan []byte, 64)
	stop := make(chan struct{})
	var cpwg sync.WaitGroup
	cpwg.Add(1)
	go func() { // read checkpoints from both replicas while they write
		defer cpwg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			r := replicas[i%2].Do(t, "GET", a.path("/checkpoint"), a.AdminToken, nil)
			if r.Status == http.StatusOK {
				select {
				case checkpoints <- r.Body:
				default:
				}
			}
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				items := make([]map[string]any, perBatch)
				for i := range items {
					items[i] = rec("id", fmt.Sprintf("w%d-b%d-%d", w, b, i), "object_id", fmt.Sprintf("obj-%d-%d", w, b), "new_value", fmt.Sprint(i))
				}
				first := replicas[(w+b)%2]
				resp := first.PostRecords(t, a, items...)
				if resp.Status != http.StatusCreated {
					fail <- fmt.Sprintf("writer %d batch %d: %d %s", w, b, resp.Status, resp.Body)
					return
				}
				got := decodeRecords(t, resp)
				if b%3 == 0 { // a retry on the other replica
					again := replicas[(w+b+1)%2].PostRecords(t, a, items...)
					if again.Status != http.StatusCreated {
						fail <- fmt.Sprintf("writer %d batch %d retry: %d %s", w, b, again.Status, again.Body)
						return
					}
					if ids(decodeRecords(t, again))[0] != got[0].ID {
						fail <- fmt.Sprintf("writer %d batch %d: the retry answered other records", w, b)
						return
					}
				}
				mu.Lock()
				for _, r := range got {
					acked[r.ID] = r
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(stop)
	cpwg.Wait()
	close(fail)
	for f := range fail {
		t.Error(f)
	}
	if t.Failed() {
		t.FailNow()
	}

	// Every acknowledged record stored once; seq contiguous, whichever
	// replica is asked.
	for _, rep := range replicas {
		all := rep.ListAll(t, a, vals("object_type", "users"))
		if len(all) != writers*batches*perBatch {
			t.Errorf("records: got %d, want %d", len(all), writers*batches*perBatch)
		}
		seen := map[string]bool{}
		for _, r := range all {
			if seen[r.ID] {
				t.Errorf("record %s listed twice", r.ID)
			}
			seen[r.ID] = true
		}
		for id := range acked {
			if !seen[id] {
				t.Errorf("acknowledged record %s is not stored", id)
			}
		}
	}
	raw := r2.rawRecords(t, a)
	for seq := range int64(len(raw)) {
		if _, ok := raw[seq]; !ok {
			t.Errorf("seq %d missing: seqs must be contiguous 0..%d", seq, len(raw)-1)
		}
	}

	// One consistent checkpoint history: every checkpoint seen on either
	// replica is signed by the one key and consistent with the newest.
	last := r1.mustCheckpoint(t, a, v1)
	close(checkpoints)
	n := 0
	for body := range checkpoints {
		cp, err := openCheckpoint(body, v1, a.ID)
		if err != nil {
			t.Errorf("checkpoint %q: %v", body, err)
			continue
		}
		if cp.Size > last.Size {
			last = r2.mustCheckpoint(t, a, v1)
		}
		n++
		switch {
		case cp.Size == last.Size:
			if !bytes.Equal(cp.Root, last.Root) {
				t.Errorf("two checkpoints of size %d with different roots", cp.Size)
			}
		case cp.Size > 0:
			hashes := r1.mustConsistency(t, a, cp.Size, last.Size)
			if err := proof.VerifyConsistency(hasher, cp.Size, last.Size, hashes, cp.Root, last.Root); err != nil {
				t.Errorf("checkpoint of size %d is not consistent with size %d: %v", cp.Size, last.Size, err)
			}
		}
	}
	t.Logf("%d records from %d writers on 2 replicas, %d checkpoints checked", len(acked), writers, n)

	r1.Stop(t)
	r2.Stop(t)
	if code, named, out := verifyFindings(t, "--account", a.ID, "--data", r1.Data); code != 0 || len(named) != 0 {
		t.Fatalf("verify after two replicas: exit %d, findings %v:\n%s", code, named, out)
	}
}
