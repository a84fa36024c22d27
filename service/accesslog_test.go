package service_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/export"
	"github.com/audittrail/audittrail/internal/testkit"
	"github.com/audittrail/audittrail/service"
)

// failingAccess is a store whose access log cannot be written (a failing
// disk), while everything else works.
type failingAccess struct {
	audittrail.Store
	fail  atomic.Bool
	calls atomic.Int64
}

func (s *failingAccess) AppendAccess(ctx context.Context, entries []*audittrail.AccessEntry) error {
	s.calls.Add(1)
	if s.fail.Load() {
		return errors.New("disk I/O error")
	}
	return s.Store.AppendAccess(ctx, entries)
}

// TestUnloggedReadFails checks SPEC §11 "no unlogged read": when the
// access log cannot be written, every read of the trail fails with
// unavailable and hands out nothing, and works again once it can.
func TestUnloggedReadFails(t *testing.T) {
	st := &failingAccess{Store: testkit.OpenStore(t, time.Now)}
	svc, ada := acmeViewer(t, st)
	ctx := context.Background()
	f := audittrail.RecordFilter{AccountID: "acme"}
	reads := map[string]func() error{
		"list":  func() error { _, err := svc.FindRecords(ctx, ada, f); return err },
		"count": func() error { _, err := svc.CountRecords(ctx, ada, f); return err },
		"export": func() error {
			exp, err := svc.OpenExport(ctx, ada, f, export.FormatCSV)
			if exp != nil {
				exp.Close()
			}
			return err
		},
		"checkpoint": func() error { _, err := svc.Checkpoint(ctx, ada, "acme"); return err },
	}
	st.fail.Store(true)
	for name, read := range reads {
		if err := read(); audittrail.ErrorCode(err) != audittrail.EUNAVAILABLE {
			t.Errorf("%s with the access log failing: got %v, want unavailable", name, err)
		}
	}
	// The export's slot was given back: with the log working, as many
	// exports open as the account may run at once.
	st.fail.Store(false)
	for name, read := range reads {
		if err := read(); err != nil {
			t.Errorf("%s with the access log working: %v", name, err)
		}
	}
	for range export.MaxPerAccount {
		exp, err := svc.OpenExport(ctx, ada, f, export.FormatCSV)
		if err != nil {
			t.Fatalf("export slot not freed by the refused exports: %v", err)
		}
		defer exp.Close()
	}
}

// TestAccessGroupCommit checks that concurrent reads share the access
// log's transactions, and that each still has its own entry.
func TestAccessGroupCommit(t *testing.T) {
	st := &failingAccess{Store: testkit.OpenStore(t, time.Now)}
	svc, _ := acmeViewer(t, st)
	ctx := context.Background()
	const readers, each = 16, 20
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			for range each {
				if _, err := svc.CountRecords(ctx, service.Local(), audittrail.RecordFilter{AccountID: "acme"}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	page, err := svc.FindAccessEntries(ctx, service.Local(), audittrail.AccessFilter{AccountID: "acme", Limit: audittrail.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != readers*each {
		t.Errorf("entries: got %d, want %d", len(page.Entries), readers*each)
	}
	t.Logf("%d reads written in %d transactions", readers*each, st.calls.Load())
}

// acmeViewer returns a service over st with an account acme, and its
// first administrator, who holds audit_trail.view, signed in.
func acmeViewer(tb testing.TB, st audittrail.Store) (*service.Service, *audittrail.Principal) {
	tb.Helper()
	svc := testkit.NewService(tb, st, service.DefaultConfig(), time.Now, nil)
	ctx := context.Background()
	if _, _, err := svc.CreateAccount(ctx, service.Local(), service.AccountInput{ID: "acme", Name: "Acme",
		Admin: service.AdminInput{LoginName: "ada", Password: "a long passphrase"}}); err != nil {
		tb.Fatal(err)
	}
	tok, err := svc.Login(ctx, "acme", "ada", "a long passphrase")
	if err != nil {
		tb.Fatal(err)
	}
	ada, err := svc.Authenticate(ctx, tok.Token)
	if err != nil {
		tb.Fatal(err)
	}
	return svc, ada
}
