package demo

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/ingest"
)

// generate returns the history from a fixed seed between from and to.
func generate(tb testing.TB, from, to time.Time) []ingest.ChangeInput {
	tb.Helper()
	loc, err := time.LoadLocation(Timezone)
	if err != nil {
		tb.Fatal(err)
	}
	staff := []actor{
		{o: audittrail.Originator{ID: "usr_1", Name: "Alex Morgan", Profiles: []string{"Administrator"}}, weight: 3},
		{o: audittrail.Originator{ID: "usr_2", Name: "Daniel Okafor", Profiles: []string{"Agent Manager"}}, weight: 1, types: []string{"users"}},
	}
	return slices.Collect(history(rand.New(rand.NewPCG(1, 2)), loc, from, to, staff))
}

func TestHistory(t *testing.T) {
	to := time.Date(2026, 3, 18, 15, 4, 5, 0, time.UTC)
	from := enabledAt(to.In(time.FixedZone("x", -4*3600)))
	changes := generate(t, from, to)

	t.Run("Deterministic", func(t *testing.T) {
		again := generate(t, from, to)
		a, _ := json.Marshal(changes)
		b, _ := json.Marshal(again)
		if string(a) != string(b) {
			t.Fatal("two histories from the same seed differ")
		}
	})

	t.Run("DateOrder", func(t *testing.T) {
		prev := from
		for i, c := range changes {
			d, err := time.Parse(time.RFC3339Nano, c.Date)
			if err != nil {
				t.Fatal(err)
			}
			if d.Before(prev) || !d.Before(to) {
				t.Fatalf("change %d: date %s, want in [%s, %s)", i, c.Date, audittrail.FormatTime(prev), audittrail.FormatTime(to))
			}
			prev = d
		}
	})

	t.Run("Volume", func(t *testing.T) {
		weeks := to.Sub(from).Hours() / (24 * 7)
		if perWeek := float64(len(changes)) / weeks; perWeek < 200 || perWeek > 300 {
			t.Fatalf("got %.0f changes a week, want about 250", perWeek)
		}
	})

	t.Run("Ingest", func(t *testing.T) {
		cat, err := audittrail.NewCatalog(nil)
		if err != nil {
			t.Fatal(err)
		}
		in := ingest.New(cat, func() time.Time { return to })
		acct := &audittrail.Account{ID: AccountID, AuditTrailEnabled: true, AuditTrailEnabledAt: &from}
		types := map[string]int{}
		actions := map[string]int{}
		var records, automatic, lpas int
		for start := 0; start < len(changes); start += ingest.MaxBatch {
			batch := changes[start:min(start+ingest.MaxBatch, len(changes))]
			entries, err := in.PrepareChanges(acct, batch, Source)
			if err != nil {
				t.Fatalf("batch at %d: %v", start, err)
			}
			for i, e := range entries {
				if len(e.Records) == 0 {
					t.Errorf("change %d (%s %s) has no difference", start+i, batch[i].ObjectType, batch[i].ObjectName)
				}
				for _, r := range e.Records {
					records++
					types[r.ObjectType]++
					actions[r.ActionType]++
					if r.Element == "Password" && (r.OldValue != "" && r.OldValue != audittrail.Redacted || r.NewValue != "" && r.NewValue != audittrail.Redacted) {
						t.Fatalf("password shown: %q → %q", r.OldValue, r.NewValue)
					}
				}
				if batch[i].Automatic {
					automatic++
				}
				if batch[i].Originator.IsLPA {
					lpas++
				}
			}
		}
		for _, ty := range cat.Types() {
			if ty.Key == audittrail.TypePublisherKeys || ty.Key == audittrail.TypeAccountSettings {
				continue // the service's own types: the platform's history does not touch them
			}
			if types[ty.Key] == 0 {
				t.Errorf("no record of type %s", ty.Key)
			}
		}
		for _, a := range []string{audittrail.ActionAdd, audittrail.ActionEdit, audittrail.ActionDelete} {
			if actions[a] == 0 {
				t.Errorf("no record of action %s", a)
			}
		}
		if automatic == 0 || lpas == 0 {
			t.Errorf("got %d automatic changes and %d by LPAs, want some of each", automatic, lpas)
		}
		t.Logf("%d changes, %d records, %d automatic, %d by LPAs; types %v; actions %v", len(changes), records, automatic, lpas, types, actions)
	})
}
