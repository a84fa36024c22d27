package postgres_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/storetest"
	"github.com/audittrail/audittrail/tlog"
	"github.com/jackc/pgx/v5"
)

// partitions returns the tables of the schema named records_*, sorted, with
// "*" after those that are not partitions of records.
func partitions(tb testing.TB, conn *pgx.Conn) []string {
	tb.Helper()
	rows, err := conn.Query(ctx, `
		SELECT c.relname || CASE WHEN c.relispartition THEN '' ELSE '*' END
		FROM pg_class c
		WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND c.relname LIKE 'records\_%'
		ORDER BY 1`)
	if err != nil {
		tb.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		tb.Fatal(err)
	}
	return names
}

// partitionOf returns the table that holds the record.
func partitionOf(tb testing.TB, conn *pgx.Conn, id string) string {
	tb.Helper()
	var name string
	if err := conn.QueryRow(ctx, `SELECT tableoid::regclass::text FROM records WHERE id = $1`, id).Scan(&name); err != nil {
		tb.Fatal(err)
	}
	return name
}

// months returns the partition names of the months from..to.
func months(from, to time.Time) []string {
	var names []string
	for m := from; !m.After(to); m = m.AddDate(0, 1, 0) {
		names = append(names, "records_p"+m.Format("2006_01"))
	}
	return names
}

func TestDB_Retention(t *testing.T) {
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	u, _ := MustSchema(t)
	db := MustOpenDB(t, u, clock)
	conn := mustConnect(t, u)
	month := func(y int, m time.Month) time.Time { return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC) }

	// Open made the partitions from 14 months back to 3 ahead, and the
	// default partition.
	want := append([]string{"records_default"}, months(month(2024, 1), month(2025, 6))...)
	if got := partitions(t, conn); !slices.Equal(got, want) {
		t.Fatalf("partitions: got %v, want %v", got, want)
	}

	id := mustAccount(t, db)
	if err := storetest.EnableAuditTrailAt(ctx, db, id, time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	old := storetest.MustAppend(t, db, id, storetest.Entries(storetest.Records(2, time.Date(2023, 6, 15, 0, 0, 0, 0, time.UTC))...)...)
	march := storetest.MustAppend(t, db, id, storetest.Entries(storetest.Records(5, now.Add(time.Hour))...)...)
	april := storetest.MustAppend(t, db, id, storetest.Entries(storetest.Records(3, time.Date(2025, 4, 5, 0, 0, 0, 0, time.UTC))...)...)
	later := storetest.MustAppend(t, db, id, storetest.Entries(storetest.Records(4, time.Date(2025, 4, 20, 0, 0, 0, 0, time.UTC))...)...)
	future := storetest.MustAppend(t, db, id, storetest.Entries(storetest.Records(2, time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC))...)...)
	for rs, want := range map[*audittrail.Record]string{old[0]: "records_default", march[0]: "records_p2025_03",
		april[0]: "records_p2025_04", future[1]: "records_default"} {
		if got := partitionOf(t, conn, rs.ID); got != want {
			t.Fatalf("partition of a record dated %v: got %s, want %s", rs.Date, got, want)
		}
	}

	t.Run("EnsurePartitionsMovesDefaultRows", func(t *testing.T) {
		// The months ahead get their partitions as time goes; the rows
		// that the default partition held for such a month move to it.
		if err := db.EnsurePartitions(ctx, time.Date(2025, 11, 3, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		want := append([]string{"records_default"}, months(month(2024, 1), month(2026, 2))...)
		if got := partitions(t, conn); !slices.Equal(got, want) {
			t.Fatalf("partitions: got %v, want %v", got, want)
		}
		for _, r := range future {
			if got := partitionOf(t, conn, r.ID); got != "records_p2026_01" {
				t.Fatalf("partition of the record dated %v: got %s, want records_p2026_01", r.Date, got)
			}
			got, err := db.FindRecord(ctx, id, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			storetest.CheckRecords(t, []*audittrail.Record{got}, []*audittrail.Record{r})
		}
		// Again: nothing to do.
		if err := db.EnsurePartitions(ctx, time.Date(2025, 11, 3, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("Purge", func(t *testing.T) {
		// A checkpoint signed before the purge still verifies after it: the
		// leaves of the purged records stay.
		signer, err := tlog.NewSigner(mustKey(t))
		if err != nil {
			t.Fatal(err)
		}
		l := &tlog.Log{Store: db, Signer: signer, Logger: slog.New(slog.DiscardHandler), Now: clock}
		if _, err := l.Checkpoint(ctx, id, time.Hour); err != nil {
			t.Fatal(err)
		}

		n, err := db.PurgeRecords(ctx, time.Date(2025, 4, 10, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		} else if want := len(old) + len(march) + len(april); n != want {
			t.Fatalf("records purged: got %d, want %d", n, want)
		}
		// The months before April are dropped, not emptied.
		want := append([]string{"records_default"}, months(month(2025, 4), month(2026, 2))...)
		if got := partitions(t, conn); !slices.Equal(got, want) {
			t.Fatalf("partitions after the purge: got %v, want %v", got, want)
		}
		remaining := append(append([]*audittrail.Record{}, later...), future...)
		slices.Reverse(remaining)
		storetest.CheckRecords(t, storetest.MustFindAll(t, db, id), remaining)

		leaves, purged, err := db.LeafHashes(ctx, id)
		if err != nil {
			t.Fatal(err)
		} else if len(leaves) != 16 || len(purged) != 10 {
			t.Fatalf("leaves: got %d and %d purged, want 16 and 10", len(leaves), len(purged))
		}
		for _, r := range slices.Concat(old, march, april) {
			if !purged[r.Seq] || leaves[r.Seq] == nil {
				t.Fatalf("seq %d: got purged %v and leaf %x, want purged with its leaf kept", r.Seq, purged[r.Seq], leaves[r.Seq])
			}
		}
		rep := storetest.MustVerify(t, db, id, signer.VerifierKey())
		if !rep.OK() || rep.Checkpoints != 1 || rep.TreeSize != 16 || rep.Records != len(remaining) {
			t.Fatalf("verify: got %v (%d checkpoints, size %d, %d records), want no finding, 1 checkpoint, size 16, %d records",
				rep.Findings, rep.Checkpoints, rep.TreeSize, rep.Records, len(remaining))
		}
		if _, err := db.TreeNodes(ctx, id, []audittrail.NodeID{{Level: 0, Index: 0}, {Level: 3, Index: 0}}); err != nil {
			t.Fatalf("nodes over purged records: %v", err)
		}

		// The purge does not come back to months it passed, and partitions
		// are not made again for them.
		if n, err := db.PurgeRecords(ctx, time.Date(2025, 4, 10, 0, 0, 0, 0, time.UTC)); err != nil || n != 0 {
			t.Fatalf("second purge: got %d, %v, want 0, nil", n, err)
		}
		if err := db.EnsurePartitions(ctx, now); err != nil {
			t.Fatal(err)
		}
		if got := partitions(t, conn); !slices.Equal(got, want) {
			t.Fatalf("partitions after EnsurePartitions: got %v, want %v", got, want)
		}

		// A record dated in a month whose partition was dropped lands in
		// the default partition, and the next purge removes it.
		late := storetest.MustAppend(t, db, id, storetest.Entries(storetest.NewRecord(time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)))...)
		if got := partitionOf(t, conn, late[0].ID); got != "records_default" {
			t.Fatalf("partition of a record of a dropped month: got %s, want records_default", got)
		}
		if n, err := db.PurgeRecords(ctx, time.Date(2025, 4, 10, 0, 0, 0, 0, time.UTC)); err != nil || n != 1 {
			t.Fatalf("purge of the late record: got %d, %v, want 1, nil", n, err)
		}
		if rep := storetest.MustVerify(t, db, id, signer.VerifierKey()); !rep.OK() {
			t.Fatalf("verify: got %v, want no finding", rep.Findings)
		}
	})

	t.Run("LeftoverDetachedMonth", func(t *testing.T) {
		// A month detached by a purge that stopped before dropping it (the
		// process died between the two steps) is finished by the next
		// purge: its rows are noted as purged, and it is dropped.
		n0, err := db.CountRecords(ctx, audittrail.RecordFilter{AccountID: id})
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, conn, `ALTER TABLE records DETACH PARTITION records_p2025_04`)
		n, err := db.PurgeRecords(ctx, time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		} else if n != len(later) {
			t.Fatalf("records purged: got %d, want %d", n, len(later))
		}
		if got := partitions(t, conn); slices.Contains(got, "records_p2025_04") || slices.Contains(got, "records_p2025_04*") {
			t.Fatalf("partitions: got %v, want records_p2025_04 dropped", got)
		}
		if n1, err := db.CountRecords(ctx, audittrail.RecordFilter{AccountID: id}); err != nil {
			t.Fatal(err)
		} else if n1 != n0-len(later) {
			t.Fatalf("records: got %d, want %d", n1, n0-len(later))
		}
		_, purged, err := db.LeafHashes(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range later {
			if !purged[r.Seq] {
				t.Fatalf("seq %d of the detached month: got not purged, want purged", r.Seq)
			}
		}
	})
}

func mustKey(tb testing.TB) string {
	tb.Helper()
	k, err := tlog.GenerateKey()
	if err != nil {
		tb.Fatal(err)
	}
	return strings.TrimSpace(k)
}

// TestDB_ConcurrentPurge runs the purge from two replicas at once, as the
// hourly job of every replica may: each expired record is purged once,
// between them, and verify holds.
func TestDB_ConcurrentPurge(t *testing.T) {
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	u, _ := MustSchema(t)
	a, b := MustOpenDB(t, u, clock), MustOpenDB(t, u, clock)
	id := mustAccount(t, a)
	if err := storetest.EnableAuditTrailAt(ctx, a, id, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	var expired int
	for m := time.January; m <= time.December; m++ {
		rs := storetest.MustAppend(t, a, id, storetest.Entries(storetest.Records(20, time.Date(2024, m, 10, 0, 0, 0, 0, time.UTC))...)...)
		expired += len(rs)
	}
	kept := storetest.MustAppend(t, b, id, storetest.Entries(storetest.Records(5, now.Add(time.Hour))...)...)
	signer, err := tlog.NewSigner(mustKey(t))
	if err != nil {
		t.Fatal(err)
	}
	l := &tlog.Log{Store: a, Signer: signer, Logger: slog.New(slog.DiscardHandler), Now: clock}
	if _, err := l.Checkpoint(ctx, id, time.Hour); err != nil {
		t.Fatal(err)
	}

	cutoff := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	type result struct {
		n   int
		err error
	}
	results := make(chan result, 2)
	for _, db := range []interface {
		PurgeRecords(ctx context.Context, cutoff time.Time) (int, error)
	}{a, b} {
		go func() {
			n, err := db.PurgeRecords(ctx, cutoff)
			results <- result{n, err}
		}()
	}
	total := 0
	for range 2 {
		r := <-results
		if r.err != nil {
			t.Fatalf("purge beside another: %v", r.err)
		}
		total += r.n
	}
	if total != expired {
		t.Fatalf("records purged by the two: got %d, want %d, each once", total, expired)
	}
	slices.Reverse(kept)
	storetest.CheckRecords(t, storetest.MustFindAll(t, b, id), kept)
	if _, purged, err := a.LeafHashes(ctx, id); err != nil || len(purged) != expired {
		t.Fatalf("purged seqs: got %d (%v), want %d", len(purged), err, expired)
	}
	if rep := storetest.MustVerify(t, b, id, signer.VerifierKey()); !rep.OK() {
		t.Fatalf("verify after two purges at once: %v", rep.Findings)
	}
}
