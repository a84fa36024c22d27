package service_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/ingest"
	"github.com/audittrail/audittrail/internal/testkit"
	"github.com/audittrail/audittrail/service"
)

// unloggedStore drops access entries: the baseline of what the access log
// costs a read. Only the benchmark uses it; the service has no switch.
type unloggedStore struct{ audittrail.Store }

func (unloggedStore) AppendAccess(context.Context, []*audittrail.AccessEntry) error { return nil }

// BenchmarkAccessLogCost measures pages of 100 records read through the
// service with the access log written (group commit, synchronous=FULL
// SQLite) against the same reads with the entries dropped, in the same
// run, sequentially and with 16 concurrent readers, and reports
// on/off as a ratio (target ≥ 0.90 under concurrency):
//
//	go test -run '^$' -bench BenchmarkAccessLogCost -benchtime 3s ./service/
func BenchmarkAccessLogCost(b *testing.B) {
	for _, par := range []int{1, 16, 64} {
		var rate [2]float64
		for i, logged := range []bool{false, true} {
			name := fmt.Sprintf("readers=%d/log=%v", par, logged)
			b.Run(name, func(b *testing.B) {
				var st audittrail.Store = testkit.OpenStore(b, time.Now)
				if !logged {
					st = unloggedStore{st}
				}
				svc, viewer := benchService(b, st)
				f := audittrail.RecordFilter{AccountID: "acme", Limit: 100}
				b.SetParallelism(par)
				start := time.Now()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := svc.FindRecords(context.Background(), viewer, f); err != nil {
							b.Error(err)
							return
						}
					}
				})
				rate[i] = float64(b.N) / time.Since(start).Seconds()
				b.ReportMetric(rate[i], "pages/s")
				if logged && rate[0] > 0 {
					b.ReportMetric(rate[1]/rate[0], "on/off")
				}
			})
		}
	}
}

// benchService returns a service over st with an account of 1,000
// records and a viewer of it.
func benchService(b *testing.B, st audittrail.Store) (*service.Service, *audittrail.Principal) {
	b.Helper()
	svc, viewer := acmeViewer(b, st)
	ctx := context.Background()
	on := true
	if _, err := svc.UpdateAccount(ctx, service.Local(), "acme", audittrail.AccountUpdate{AuditTrailEnabled: &on}); err != nil {
		b.Fatal(err)
	}
	k, err := svc.CreatePublisherKey(ctx, service.Local(), "acme", "platform")
	if err != nil {
		b.Fatal(err)
	}
	pub, _ := svc.Authenticate(ctx, k.Key)
	batch := make([]ingest.RecordInput, 1000)
	for i := range batch {
		batch[i] = ingest.RecordInput{ObjectType: "skills", ObjectName: fmt.Sprintf("Skill %d", i), ActionType: "edit", Element: "name",
			OldValue: []byte(`"old name"`), NewValue: []byte(`"new name"`), Originator: &audittrail.Originator{Name: "Olivia"}}
	}
	if _, err := svc.AppendRecords(ctx, pub, "acme", batch); err != nil {
		b.Fatal(err)
	}
	return svc, viewer
}
