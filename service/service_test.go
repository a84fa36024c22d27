package service_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/ingest"
	"github.com/audittrail/audittrail/internal/testkit"
	"github.com/audittrail/audittrail/service"
)

// newService returns a service over a fresh SQLite store and an account
// acme with its audit trail on, and the account's publisher principal.
func newService(t *testing.T) (*service.Service, *audittrail.Principal) {
	t.Helper()
	svc := testkit.NewService(t, testkit.OpenStore(t, time.Now), service.DefaultConfig(), time.Now, nil)
	ctx := context.Background()
	if _, _, err := svc.CreateAccount(ctx, service.Local(), service.AccountInput{ID: "acme", Name: "Acme",
		Admin: service.AdminInput{LoginName: "ada", Password: "a long passphrase"}}); err != nil {
		t.Fatal(err)
	}
	on := true
	if _, err := svc.UpdateAccount(ctx, service.Local(), "acme", audittrail.AccountUpdate{AuditTrailEnabled: &on}); err != nil {
		t.Fatal(err)
	}
	k, err := svc.CreatePublisherKey(ctx, service.Local(), "acme", "platform")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := svc.Authenticate(ctx, k.Key)
	if err != nil {
		t.Fatal(err)
	}
	return svc, pub
}

// TestSubscribe checks the post-commit seam: a platform's batch and the
// service's own records of a change are each announced once, after they
// are durable, with the seq range they took.
func TestSubscribe(t *testing.T) {
	svc, pub := newService(t)
	ctx := context.Background()
	var mu sync.Mutex
	var got []audittrail.Commit
	unsubscribe := svc.Subscribe(func(c audittrail.Commit) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, c)
	})

	recs, err := svc.AppendRecords(ctx, pub, "acme", []ingest.RecordInput{
		{ObjectType: "skills", ObjectName: "Billing", ActionType: "edit", Element: "name", OldValue: []byte(`"a"`), NewValue: []byte(`"b"`),
			Originator: &audittrail.Originator{Name: "Olivia"}},
		{ObjectType: "skills", ObjectName: "Billing", ActionType: "edit", Element: "description", OldValue: []byte(`"a"`), NewValue: []byte(`"b"`),
			Originator: &audittrail.Originator{Name: "Olivia"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreatePublisherKey(ctx, service.Local(), "acme", "second"); err != nil {
		t.Fatal(err)
	}
	unsubscribe()
	if _, err := svc.CreatePublisherKey(ctx, service.Local(), "acme", "third"); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("commits announced: got %v, want 2 (the batch and the key's record; none after unsubscribing)", got)
	}
	first, last := recs[0].Seq, recs[len(recs)-1].Seq
	if want := (audittrail.Commit{AccountID: "acme", FirstSeq: first, EndSeq: last + 1}); got[0] != want {
		t.Errorf("batch: got %+v, want %+v", got[0], want)
	}
	if got[1].AccountID != "acme" || got[1].FirstSeq != last+1 || got[1].EndSeq <= got[1].FirstSeq {
		t.Errorf("self-audit: got %+v, want the seqs after %d", got[1], last)
	}
	page, err := svc.FindRecords(ctx, service.Local(), audittrail.RecordFilter{AccountID: "acme", ObjectTypes: []string{audittrail.TypePublisherKeys}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range page.Records {
		if r.Seq >= got[1].FirstSeq && r.Seq < got[1].EndSeq && r.Source != audittrail.SourceService {
			t.Errorf("record %d of the announced range: source %q, want %q", r.Seq, r.Source, audittrail.SourceService)
		}
	}
}

// TestReadsClamped checks that a read asking for records older than the
// retention window gets the window.
func TestReadsClamped(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	long := now.AddDate(-5, 0, 0)
	f := audittrail.RecordFilter{AccountID: "acme", From: &long}
	service.Clamp(&f, audittrail.DefaultRetention, now)
	if want := now.AddDate(0, -13, 0); !f.From.Equal(want) {
		t.Errorf("from: got %v, want %v", f.From, want)
	}
	f = audittrail.RecordFilter{AccountID: "acme"}
	service.Clamp(&f, audittrail.DefaultRetention, now)
	if f.From == nil {
		t.Error("from: got nil, want the window's start")
	}
}

// TestAuthorize checks the rule every operation applies first.
func TestAuthorize(t *testing.T) {
	viewer := &audittrail.Principal{Kind: audittrail.PrincipalUser, AccountID: "acme", User: &audittrail.User{ID: "u"},
		Profile: &audittrail.Profile{Role: audittrail.RoleAdministrator, Permissions: []string{audittrail.PermissionViewAuditTrail}}}
	admin := &audittrail.Principal{Kind: audittrail.PrincipalUser, AccountID: "acme", User: &audittrail.User{ID: "u"},
		Profile: &audittrail.Profile{Role: audittrail.RoleAdministrator, Permissions: []string{}}}
	key := &audittrail.Principal{Kind: audittrail.PrincipalPublisher, AccountID: "acme", Key: &audittrail.PublisherKey{}}
	op := &audittrail.Principal{Kind: audittrail.PrincipalOperator}
	for _, c := range []struct {
		name    string
		p       *audittrail.Principal
		access  service.Access
		account string
		want    string
	}{
		{"NoCredential", nil, service.Viewer, "acme", audittrail.EUNAUTHENTICATED},
		{"Public", nil, service.Public, "", ""},
		{"Viewer", viewer, service.Viewer, "acme", ""},
		{"OtherAccount", viewer, service.Viewer, "other", audittrail.ENOTFOUND},
		{"AdminNotViewer", admin, service.Viewer, "acme", audittrail.EFORBIDDEN},
		{"Admin", admin, service.Administrator, "acme", ""},
		{"KeyReads", key, service.Viewer, "acme", audittrail.EFORBIDDEN},
		{"KeyWrites", key, service.Publisher, "acme", ""},
		{"OperatorReads", op, service.Viewer, "acme", audittrail.EFORBIDDEN},
		{"OperatorCreates", op, service.Operator, "", ""},
		{"Local", service.Local(), service.Viewer, "acme", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := audittrail.ErrorCode(service.Authorize(c.p, c.access, c.account)); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}
