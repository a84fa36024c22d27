package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// doRaw sends a request like Server.Do, without a testing.TB, for use
// from goroutines other than the test's.
func doRaw(s *Server, method, path, cred string, body any) (*Response, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+cred)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: rb}, err
}

// post sends items to POST .../records without a testing.TB.
func post(s *Server, a *Account, items []map[string]any) error {
	r, err := doRaw(s, "POST", a.path("/records"), a.Key, records(items...))
	if err != nil {
		return err
	}
	if r.Status != 201 {
		return fmt.Errorf("POST records: got status %d, want 201: %s", r.Status, r.Body)
	}
	return nil
}

// TestPagingWhileWriting pages through an account's records with a cursor
// while other clients keep adding records, some dated among those already
// there: every record present at the start is seen exactly once, and no
// record twice (SPEC §6).
func TestPagingWhileWriting(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "paging", true)
	base := srv.enabledAt(t, a).Truncate(time.Second).Add(time.Second)
	span := 150 * time.Second
	dateAt := func(i int) string { return ts(base.Add(time.Duration(i) * 500 * time.Millisecond)) }

	initial := map[string]string{} // id → object type
	for _, r := range srv.ListAll(t, a, vals("limit", "1000")) {
		initial[r.ID] = r.ObjectType
	}
	for b := range 3 {
		var items []map[string]any
		for i := b * 100; i < (b+1)*100; i++ {
			d := i
			if i%7 == 0 && i > 0 {
				d = i - 1 // some records share a date
			}
			items = append(items, rec("object_id", fmt.Sprintf("init-%d", i), "object_type", []string{"users", "skills"}[i%2], "date", dateAt(d)))
		}
		for _, r := range srv.MustRecords(t, a, items...) {
			initial[r.ID] = r.ObjectType
		}
	}
	if len(initial) < 300 {
		t.Fatalf("initial records: got %v, want at least %v", len(initial), 300)
	}

	for name, filter := range map[string]string{"OK": "", "OKFiltered": "users"} {
		t.Run(name, func(t *testing.T) {
			var (
				stop     = make(chan struct{})
				wg       sync.WaitGroup
				inserted atomic.Int64
				errs     = make(chan error, 4)
			)
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rnd := rand.New(rand.NewPCG(uint64(w), 42))
					for k := 0; ; k++ {
						select {
						case <-stop:
							return
						default:
						}
						var items []map[string]any
						for j := range 1 + rnd.IntN(5) {
							it := rec("object_id", fmt.Sprintf("w%d-%d-%d", w, k, j), "object_type", []string{"users", "skills"}[rnd.IntN(2)])
							switch rnd.IntN(3) {
							case 0: // among the existing records, often on one of their dates
								it["date"] = dateAt(rnd.IntN(300))
							case 1:
								it["date"] = ts(base.Add(time.Duration(rnd.Int64N(int64(span)))))
							}
							items = append(items, it)
						}
						if err := post(srv, a, items); err != nil {
							errs <- err
							return
						}
						inserted.Add(int64(len(items)))
					}
				}()
			}
			defer func() {
				close(stop)
				wg.Wait()
				select {
				case err := <-errs:
					t.Error(err)
				default:
				}
			}()

			q := vals("limit", "37")
			if filter != "" {
				q.Set("object_type", filter)
			}
			seen := map[string]int{}
			var last *Record
			pages := 0
			for {
				// Let the writers add records between two pages.
				for n, deadline := inserted.Load(), time.Now().Add(5*time.Second); inserted.Load() < n+4 && time.Now().Before(deadline); {
					time.Sleep(time.Millisecond)
				}
				p := srv.List(t, a, q)
				pages++
				for _, r := range p.Records {
					seen[r.ID]++
					if filter != "" && r.ObjectType != filter {
						t.Errorf("record %s: got object_type %s, want %s", r.ID, r.ObjectType, filter)
					}
					if last != nil {
						if c := last.Time(t).Compare(r.Time(t)); c < 0 || c == 0 && last.Seq <= r.Seq {
							t.Errorf("order: got (%s, %d) after (%s, %d), want newest first", r.Date, r.Seq, last.Date, last.Seq)
						}
					}
					r := r
					last = &r
				}
				if p.NextCursor == nil {
					break
				}
				q.Set("cursor", *p.NextCursor)
			}
			if pages < 5 {
				t.Errorf("pages: got %v, want at least %v", pages, 5)
			}
			if inserted.Load() == 0 {
				t.Errorf("records inserted while paging: got 0, want some")
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("record %s: seen %d times, want once", id, n)
				}
			}
			want := 0
			for id, typ := range initial {
				if filter != "" && typ != filter {
					continue
				}
				want++
				if seen[id] != 1 {
					t.Errorf("initial record %s: seen %d times, want once", id, seen[id])
				}
			}
			t.Logf("%d pages, %d records seen, %d initial, %d inserted meanwhile", pages, len(seen), want, inserted.Load())
		})
		// The records written by this subtest are initial for the next.
		for _, r := range srv.ListAll(t, a, vals("limit", "1000")) {
			initial[r.ID] = r.ObjectType
		}
	}

	// Written by many clients at once, seqs are still 0, 1, 2, … without
	// gap or repeat.
	all := srv.ListAll(t, a, vals("limit", "1000"))
	got := seqs(all)
	slices.Sort(got)
	for i, s := range got {
		if s != int64(i) {
			t.Fatalf("seqs: got %v at position %d of %d, want 0 to %d each once", s, i, len(got), len(got)-1)
		}
	}
}
