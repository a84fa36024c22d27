package storetest

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/tlog"
)

func testLog(t *testing.T, open OpenFunc) {
	t.Run("Tree", func(t *testing.T) {
		// The store keeps the leaf of every record it appends, the nodes of
		// the tree, and its compact range, in seq order.
		s, clk := MustOpen(t, open)
		id := MustCreateAccount(t, s, clk, true).Account.ID
		var rs []*audittrail.Record
		for _, n := range []int{1, 4, 2, 6} {
			rs = append(rs, MustAppend(t, s, id, Entries(Records(n, start)...)...)...)
		}

		want, _ := tlog.NewTree(0, nil)
		for _, r := range rs {
			want.Append(tlog.LeafHash(r), func(tlog.NodeID, []byte) {})
		}
		size, hashes, err := s.TreeHead(ctx, id)
		if err != nil {
			t.Fatal(err)
		} else if size != uint64(len(rs)) {
			t.Fatalf("tree size: got %d, want %d", size, len(rs))
		}
		got, err := tlog.NewTree(size, hashes)
		if err != nil {
			t.Fatal(err)
		} else if !bytes.Equal(got.Root(), want.Root()) {
			t.Fatalf("root: got %x, want %x", got.Root(), want.Root())
		}

		leaves, purged, err := s.LeafHashes(ctx, id)
		if err != nil {
			t.Fatal(err)
		} else if len(leaves) != len(rs) || len(purged) != 0 {
			t.Fatalf("leaves: got %d and %d purged, want %d and 0", len(leaves), len(purged), len(rs))
		}
		for i, r := range rs {
			if !bytes.Equal(leaves[i], tlog.LeafHash(r)) {
				t.Fatalf("leaf %d: got %x, want the hash of the record", i, leaves[i])
			}
		}
		nodes, err := s.TreeNodes(ctx, id, []audittrail.NodeID{{Level: 0, Index: 5}, {Level: 3, Index: 0}, {Level: 1, Index: 5}})
		if err != nil {
			t.Fatal(err)
		} else if !bytes.Equal(nodes[0], leaves[5]) {
			t.Fatalf("node 0/5: got %x, want the leaf %x", nodes[0], leaves[5])
		}
		_, err = s.TreeNodes(ctx, id, []audittrail.NodeID{{Level: 0, Index: 0}, {Level: 4, Index: 0}})
		CheckCode(t, err, audittrail.ENOTFOUND)

		var bySeq []*audittrail.Record
		if err := s.IterateRecordsBySeq(ctx, id, func(r *audittrail.Record) error {
			bySeq = append(bySeq, r)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		CheckRecords(t, bySeq, rs)
	})

	t.Run("Checkpoints", func(t *testing.T) {
		s, clk := MustOpen(t, open)
		id := MustCreateAccount(t, s, clk, true).Account.ID
		_, err := s.LatestCheckpoint(ctx, id)
		CheckCode(t, err, audittrail.ENOTFOUND)

		add := func(size uint64) error {
			return s.AddCheckpoint(ctx, &audittrail.Checkpoint{AccountID: id, TreeSize: size, RootHash: make([]byte, 32),
				Note: fmt.Appendf(nil, "note of %d\n", size)})
		}
		checkLatest := func(want uint64, created time.Time) {
			t.Helper()
			cp, err := s.LatestCheckpoint(ctx, id)
			if err != nil {
				t.Fatal(err)
			} else if cp.TreeSize != want || cp.AccountID != id || string(cp.Note) != fmt.Sprintf("note of %d\n", want) {
				t.Fatalf("latest checkpoint: got size %d of %s, want %d of %s", cp.TreeSize, cp.AccountID, want, id)
			}
			checkTime(t, "created_at", cp.CreatedAt, created)
		}
		if err := add(2); err != nil {
			t.Fatal(err)
		}
		checkLatest(2, start)

		// A checkpoint of a smaller tree than the newest (another signer
		// went first) is refused; one of the same size is not.
		clk.Add(time.Minute)
		CheckCode(t, add(1), audittrail.ECONFLICT)
		checkLatest(2, start)
		if err := add(2); err != nil {
			t.Fatal(err)
		}
		if err := add(3); err != nil {
			t.Fatal(err)
		}
		checkLatest(3, clk.Now())
		cps, err := s.FindCheckpoints(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got := checkpointSizes(cps); !slices.Equal(got, []uint64{2, 2, 3}) {
			t.Fatalf("checkpoints: got sizes %v, want [2 2 3]", got)
		}
	})

	t.Run("CheckpointsConcurrent", func(t *testing.T) {
		// Signers that store checkpoints at once leave a history that only
		// grows: each checkpoint is stored, or refused for a larger one.
		const writers, adds = 8, 10
		s, clk := MustOpen(t, open)
		id := MustCreateAccount(t, s, clk, true).Account.ID
		var wg sync.WaitGroup
		errs := make(chan error, writers*adds)
		for w := range writers {
			wg.Go(func() {
				for i := range adds {
					size := uint64(i*writers + (w*7)%writers)
					err := s.AddCheckpoint(ctx, &audittrail.Checkpoint{AccountID: id, TreeSize: size, RootHash: make([]byte, 32), Note: []byte("n\n")})
					if err != nil && audittrail.ErrorCode(err) != audittrail.ECONFLICT {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		cps, err := s.FindCheckpoints(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if sizes := checkpointSizes(cps); len(sizes) == 0 || !slices.IsSorted(sizes) {
			t.Fatalf("checkpoint sizes in the order stored: got %v, want a growing list", sizes)
		}
	})

	t.Run("SignersAtOnce", func(t *testing.T) {
		// tlog.Log signers over one store: whichever loses a race is
		// answered the newest checkpoint, and the history verifies.
		s, clk := MustOpen(t, open)
		id := MustCreateAccount(t, s, clk, true).Account.ID
		signer := mustSigner(t)
		logs := make([]*tlog.Log, 4)
		for i := range logs {
			logs[i] = &tlog.Log{Store: s, Signer: signer, Logger: slog.New(slog.DiscardHandler), Now: clk.Now}
		}
		for round := range 5 {
			MustAppend(t, s, id, Entries(Records(1+round, start)...)...)
			var wg sync.WaitGroup
			errs := make(chan error, len(logs))
			for _, l := range logs {
				wg.Go(func() {
					if cp, err := l.Checkpoint(ctx, id, time.Hour); err != nil {
						errs <- err
					} else if cp.TreeSize == 0 {
						errs <- fmt.Errorf("checkpoint of size 0 after an append")
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
		}
		cps, err := s.FindCheckpoints(ctx, id)
		if err != nil {
			t.Fatal(err)
		} else if sizes := checkpointSizes(cps); !slices.IsSorted(sizes) || sizes[len(sizes)-1] != 15 {
			t.Fatalf("checkpoint sizes: got %v, want a growing list up to 15", sizes)
		}
		if rep := MustVerify(t, s, id, signer.VerifierKey()); !rep.OK() || rep.Checkpoints != len(cps) {
			t.Fatalf("verify: got %v (%d checkpoints), want no finding and %d checkpoints", rep.Findings, rep.Checkpoints, len(cps))
		}
	})

	t.Run("Purge", func(t *testing.T) {
		// The purge removes the records dated before the cutoff, whole
		// months and part of one, and keeps their leaves: the log verifies
		// against a checkpoint signed before.
		s, clk := MustOpen(t, open)
		id := MustCreateAccount(t, s, clk, true).Account.ID
		other := MustCreateAccount(t, s, clk, true).Account.ID
		march := MustAppend(t, s, id, Entries(Records(5, start.Add(time.Hour))...)...)
		clk.Add(70 * 24 * time.Hour) // 10 May
		early := MustAppend(t, s, id, Entries(Records(3, time.Date(2025, 4, 5, 0, 0, 0, 0, time.UTC))...)...)
		late := MustAppend(t, s, id, Entries(Records(4, time.Date(2025, 4, 20, 0, 0, 0, 0, time.UTC))...)...)
		may := MustAppend(t, s, id, Entries(Records(2, clk.Now())...)...)
		kept := MustAppend(t, s, other, Entries(Records(2, clk.Now())...)...)

		signer := mustSigner(t)
		l := &tlog.Log{Store: s, Signer: signer, Logger: slog.New(slog.DiscardHandler), Now: clk.Now}
		if _, err := l.Checkpoint(ctx, id, time.Hour); err != nil {
			t.Fatal(err)
		}

		cutoff := time.Date(2025, 4, 10, 0, 0, 0, 0, time.UTC)
		n, err := s.PurgeRecords(ctx, cutoff)
		if err != nil {
			t.Fatal(err)
		} else if want := len(march) + len(early); n < want {
			t.Fatalf("records purged: got %d, want at least %d", n, want)
		}
		remaining := append(append([]*audittrail.Record{}, late...), may...)
		CheckRecords(t, MustFindAll(t, s, id), expected(audittrail.RecordFilter{AccountID: id}, remaining))
		CheckRecords(t, MustFindAll(t, s, other), expected(audittrail.RecordFilter{AccountID: other}, kept))
		for _, r := range append(march, early...) {
			_, err := s.FindRecord(ctx, id, r.ID)
			CheckCode(t, err, audittrail.ENOTFOUND)
		}

		leaves, purged, err := s.LeafHashes(ctx, id)
		if err != nil {
			t.Fatal(err)
		} else if len(leaves) != 14 || len(purged) != 8 {
			t.Fatalf("leaves: got %d and %d purged, want 14 and 8", len(leaves), len(purged))
		}
		for _, r := range append(march, early...) {
			if !purged[r.Seq] {
				t.Fatalf("purged seqs: got %v, want it to hold %d", purged, r.Seq)
			}
		}
		if rep := MustVerify(t, s, id, signer.VerifierKey()); !rep.OK() || rep.Records != len(remaining) || rep.Checkpoints != 1 {
			t.Fatalf("verify after the purge: got %v (%d records, %d checkpoints), want no finding, %d records, 1 checkpoint",
				rep.Findings, rep.Records, rep.Checkpoints, len(remaining))
		}

		// Nothing more to purge; the log goes on where it was.
		if _, err := s.PurgeRecords(ctx, cutoff); err != nil {
			t.Fatal(err)
		}
		if rs := MustAppend(t, s, id, Entries(NewRecord(clk.Now()))...); rs[0].Seq != 14 {
			t.Fatalf("seq after the purge: got %d, want 14", rs[0].Seq)
		}
		if _, err := l.Checkpoint(ctx, id, time.Hour); err != nil {
			t.Fatal(err)
		}
		if rep := MustVerify(t, s, id, signer.VerifierKey()); !rep.OK() || rep.Checkpoints != 2 {
			t.Fatalf("verify: got %v (%d checkpoints), want no finding and 2 checkpoints", rep.Findings, rep.Checkpoints)
		}
	})
}

// MustVerify checks the account's log in the store with tlog.Verify, as
// `audittrail verify` does, against the checkpoints signed with vkey.
func MustVerify(tb testing.TB, s audittrail.Store, accountID, vkey string) *tlog.Report {
	tb.Helper()
	leaves, purged, err := s.LeafHashes(ctx, accountID)
	if err != nil {
		tb.Fatal(err)
	}
	cps, err := s.FindCheckpoints(ctx, accountID)
	if err != nil {
		tb.Fatal(err)
	}
	c := tlog.LogCopy{
		Account: accountID,
		Leaves:  leaves,
		Purged:  func(seq int64) bool { return purged[seq] },
		Records: func(fn func(*audittrail.Record) error) error { return s.IterateRecordsBySeq(ctx, accountID, fn) },
	}
	for _, cp := range cps {
		c.Checkpoints = append(c.Checkpoints, cp.Note)
	}
	rep, err := tlog.Verify(c, vkey)
	if err != nil {
		tb.Fatal(err)
	}
	return rep
}

func mustSigner(tb testing.TB) *tlog.Signer {
	tb.Helper()
	signer, err := tlog.NewEphemeralSigner()
	if err != nil {
		tb.Fatal(err)
	}
	return signer
}

func checkpointSizes(cps []*audittrail.Checkpoint) []uint64 {
	sizes := make([]uint64, len(cps))
	for i, cp := range cps {
		sizes[i] = cp.TreeSize
	}
	return sizes
}
