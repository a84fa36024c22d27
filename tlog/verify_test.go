package tlog_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/tlog"
)

// memLog is an account's log in memory, as a store would hold it: the
// records, the leaf hashes stored when they were appended, the seqs the
// purge removed, and signed checkpoints.
type memLog struct {
	account     string
	records     []*audittrail.Record // in seq order; tests remove, change and add
	leaves      [][]byte
	purged      map[int64]bool
	checkpoints [][]byte
	signer      *tlog.Signer
	roots       map[uint64][]byte // the true root of each size
}

func newSigner(t testing.TB) *tlog.Signer {
	t.Helper()
	skey, err := tlog.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := tlog.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testRecord(seq int64) *audittrail.Record {
	return &audittrail.Record{
		ID: fmt.Sprintf("rec_%d", seq), Seq: seq, ObjectType: "users", ObjectID: fmt.Sprint("u-", seq%3),
		ObjectName: fmt.Sprint("User ", seq%3), ActionType: "edit", Element: "Email",
		OldValue: fmt.Sprintf("old-%d@example.com", seq), NewValue: fmt.Sprintf("new-%d@example.com", seq),
		Date:       time.Date(2026, 1, 2, 3, 4, 5, int(seq)*1e6, time.UTC),
		Originator: audittrail.Originator{ID: "o-1", Name: "Olivia"}, ChangeID: fmt.Sprint("chg_", seq),
		ReceivedAt: time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC), Source: "platform",
	}
}

// newMemLog appends n records and signs a checkpoint at each of the sizes
// given (in that order).
func newMemLog(t testing.TB, n int, sizes ...uint64) *memLog {
	t.Helper()
	l := &memLog{account: "acme", purged: map[int64]bool{}, signer: newSigner(t), roots: map[uint64][]byte{}}
	tree, err := tlog.NewTree(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.roots[0] = tree.Root()
	for i := range n {
		r := testRecord(int64(i))
		l.records = append(l.records, r)
		leaf := tlog.LeafHash(r)
		l.leaves = append(l.leaves, leaf)
		if err := tree.Append(leaf, func(tlog.NodeID, []byte) {}); err != nil {
			t.Fatal(err)
		}
		l.roots[tree.Size()] = tree.Root()
	}
	for _, size := range sizes {
		l.sign(t, l.signer, tlog.Origin(l.account), size, l.roots[size])
	}
	return l
}

// sign appends a checkpoint of size and root signed by s.
func (l *memLog) sign(t testing.TB, s *tlog.Signer, origin string, size uint64, root []byte) {
	t.Helper()
	note, err := s.Sign(tlog.Checkpoint{Origin: origin, Size: size, Hash: root, Extensions: []string{"timestamp 1767322800"}})
	if err != nil {
		t.Fatal(err)
	}
	l.checkpoints = append(l.checkpoints, note)
}

func (l *memLog) copy() tlog.LogCopy {
	return tlog.LogCopy{
		Account: l.account,
		Leaves:  l.leaves,
		Purged:  func(seq int64) bool { return l.purged[seq] },
		Records: func(fn func(*audittrail.Record) error) error {
			for _, r := range l.records {
				if err := fn(r); err != nil {
					return err
				}
			}
			return nil
		},
		Checkpoints: l.checkpoints,
	}
}

func (l *memLog) verify(t *testing.T) *tlog.Report {
	t.Helper()
	rep, err := tlog.Verify(l.copy(), l.signer.VerifierKey())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rep
}

// remove drops the record of seq.
func (l *memLog) remove(seq int64) {
	l.records = slices.DeleteFunc(l.records, func(r *audittrail.Record) bool { return r.Seq == seq })
}

func (l *memLog) record(seq int64) *audittrail.Record {
	for _, r := range l.records {
		if r.Seq == seq {
			return r
		}
	}
	panic(fmt.Sprint("no record ", seq))
}

// finding is a Finding without its detail, for comparing.
type finding struct {
	Seq  int64
	Kind string
}

func findings(rep *tlog.Report) []finding {
	var out []finding
	for _, f := range rep.Findings {
		out = append(out, finding{f.Seq, f.Kind})
	}
	return out
}

// recordFindings returns the findings that name a record, sorted.
func recordFindings(rep *tlog.Report) []finding {
	var out []finding
	for _, f := range findings(rep) {
		if f.Seq >= 0 {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b finding) int { return int(a.Seq - b.Seq) })
	return out
}

// covering counts the checkpoint sizes that cover seq.
func covering(sizes []uint64, seq uint64) int {
	n := 0
	for _, s := range sizes {
		if s > seq {
			n++
		}
	}
	return n
}

func countKind(rep *tlog.Report, kind string) int {
	n := 0
	for _, f := range rep.Findings {
		if f.Kind == kind {
			n++
		}
	}
	return n
}

func dump(rep *tlog.Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		fmt.Fprintf(&b, "\n\t%s", f)
	}
	return b.String()
}

func TestVerify(t *testing.T) {
	const n = 20
	sizes := []uint64{0, 1, 5, 8, 13, 20, 20}

	t.Run("Untouched", func(t *testing.T) {
		l := newMemLog(t, n, sizes...)
		rep := l.verify(t)
		if !rep.OK() {
			t.Fatalf("got findings, want none:%s", dump(rep))
		}
		if rep.TreeSize != n || rep.Records != n || rep.Checkpoints != len(sizes) {
			t.Fatalf("report: got size %d, %d records, %d checkpoints; want %d, %d, %d", rep.TreeSize, rep.Records, rep.Checkpoints, n, n, len(sizes))
		}
	})

	t.Run("Empty", func(t *testing.T) {
		l := newMemLog(t, 0, 0)
		if rep := l.verify(t); !rep.OK() || rep.TreeSize != 0 {
			t.Fatalf("got size %d and findings:%s", rep.TreeSize, dump(rep))
		}
	})

	t.Run("IgnoresIDAndReceivedAt", func(t *testing.T) {
		l := newMemLog(t, n, sizes...)
		r := l.record(4)
		r.ID, r.ReceivedAt = "rec_other", r.ReceivedAt.Add(time.Hour)
		if rep := l.verify(t); !rep.OK() {
			t.Fatalf("got findings, want none (id and received_at are not hashed):%s", dump(rep))
		}
	})

	changes := map[string]func(r *audittrail.Record){
		"OldValueBit":     func(r *audittrail.Record) { b := []byte(r.OldValue); b[0] ^= 1; r.OldValue = string(b) },
		"NewValue":        func(r *audittrail.Record) { r.NewValue += " " },
		"OriginatorName":  func(r *audittrail.Record) { r.Originator.Name = "Mallory" },
		"OriginatorLPA":   func(r *audittrail.Record) { r.Originator.IsLPA = true },
		"Date":            func(r *audittrail.Record) { r.Date = r.Date.Add(time.Millisecond) },
		"Automatic":       func(r *audittrail.Record) { r.Automatic = !r.Automatic },
		"ActionType":      func(r *audittrail.Record) { r.ActionType = "delete" },
		"Source":          func(r *audittrail.Record) { r.Source = "audittrail" },
		"ChangeID":        func(r *audittrail.Record) { r.ChangeID += "x" },
		"Element":         func(r *audittrail.Record) { r.Element = "Password" },
		"ObjectType":      func(r *audittrail.Record) { r.ObjectType = "skills" },
		"ObjectIDAndName": func(r *audittrail.Record) { r.ObjectID, r.ObjectName = "u-9", "User 9" },
	}
	for name, change := range changes {
		t.Run("Changed/"+name, func(t *testing.T) {
			l := newMemLog(t, n, sizes...)
			change(l.record(9))
			rep := l.verify(t)
			if got, want := recordFindings(rep), []finding{{9, tlog.Changed}}; !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v:%s", got, want, dump(rep))
			}
			// The checkpoints that cover seq 9 no longer match the tree
			// rebuilt from the records.
			if got, want := countKind(rep, tlog.BadCheckpoint), covering(sizes, 9); got != want {
				t.Fatalf("got %d checkpoint findings, want %d (those of sizes over 9):%s", got, want, dump(rep))
			}
		})
	}

	t.Run("Changed/Swapped", func(t *testing.T) {
		l := newMemLog(t, n, sizes...)
		a, b := l.record(3), l.record(4)
		a.Seq, b.Seq = 4, 3
		slices.SortFunc(l.records, func(x, y *audittrail.Record) int { return int(x.Seq - y.Seq) })
		rep := l.verify(t)
		if got, want := recordFindings(rep), []finding{{3, tlog.Changed}, {4, tlog.Changed}}; !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v:%s", got, want, dump(rep))
		}
	})

	t.Run("Removed", func(t *testing.T) {
		l := newMemLog(t, n, sizes...)
		l.remove(6)
		l.remove(11)
		rep := l.verify(t)
		if got, want := recordFindings(rep), []finding{{6, tlog.Removed}, {11, tlog.Removed}}; !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v:%s", got, want, dump(rep))
		}
		if rep.Records != n-2 {
			t.Fatalf("records: got %d, want %d", rep.Records, n-2)
		}
	})

	t.Run("RemovedWithItsLeaf", func(t *testing.T) {
		// The record and its stored leaf are both gone; the checkpoints
		// still say the log had it.
		l := newMemLog(t, n, sizes...)
		l.remove(2)
		l.leaves = slices.Clone(l.leaves)
		l.leaves[2] = nil
		rep := l.verify(t)
		if got, want := recordFindings(rep), []finding{{2, tlog.Removed}}; !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v:%s", got, want, dump(rep))
		}
		if countKind(rep, tlog.BadCheckpoint) == 0 {
			t.Fatalf("got no checkpoint finding, want the checkpoints covering seq 2 to fail:%s", dump(rep))
		}
	})

	t.Run("Inserted/AfterTheEnd", func(t *testing.T) {
		l := newMemLog(t, n, sizes...)
		forged := testRecord(n)
		forged.OldValue = "forged"
		l.records = append(l.records, forged)
		rep := l.verify(t)
		if got, want := recordFindings(rep), []finding{{n, tlog.Inserted}}; !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v:%s", got, want, dump(rep))
		}
	})

	t.Run("Inserted/SameSeq", func(t *testing.T) {
		l := newMemLog(t, n, sizes...)
		forged := testRecord(5)
		forged.ID, forged.NewValue = "rec_forged", "forged"
		l.records = slices.Insert(l.records, 6, forged)
		rep := l.verify(t)
		if got, want := recordFindings(rep), []finding{{5, tlog.Inserted}}; !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v:%s", got, want, dump(rep))
		}
	})

	t.Run("Inserted/Negative", func(t *testing.T) {
		l := newMemLog(t, n, sizes...)
		l.records = append([]*audittrail.Record{testRecord(-1)}, l.records...)
		rep := l.verify(t)
		if got := findings(rep); !slices.Equal(got, []finding{{-1, tlog.Inserted}}) {
			t.Fatalf("got %v, want one inserted finding:%s", findings(rep), dump(rep))
		}
	})

	t.Run("Purged", func(t *testing.T) {
		l := newMemLog(t, n, sizes...)
		for seq := range int64(7) {
			l.remove(seq)
			l.purged[seq] = true
		}
		rep := l.verify(t)
		if !rep.OK() {
			t.Fatalf("got findings, want none (purged records keep their leaves):%s", dump(rep))
		}
		if rep.Records != n-7 || rep.TreeSize != n {
			t.Fatalf("got %d records, size %d; want %d, %d", rep.Records, rep.TreeSize, n-7, n)
		}
	})

	t.Run("PurgedWithoutLeaf", func(t *testing.T) {
		l := newMemLog(t, n, sizes...)
		l.remove(0)
		l.purged[0] = true
		l.leaves = slices.Clone(l.leaves)
		l.leaves[0] = nil
		rep := l.verify(t)
		if got, want := recordFindings(rep), []finding{{0, tlog.Removed}}; !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v:%s", got, want, dump(rep))
		}
	})

	t.Run("PurgedThenChanged", func(t *testing.T) {
		// A purge mark does not excuse a record that is still there with
		// other content.
		l := newMemLog(t, n, sizes...)
		l.purged[3] = true
		l.record(3).NewValue = "rewritten"
		rep := l.verify(t)
		if got, want := recordFindings(rep), []finding{{3, tlog.Changed}}; !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v:%s", got, want, dump(rep))
		}
	})

	t.Run("TailCut", func(t *testing.T) {
		// Records and their leaves cut off after seq 16; the checkpoints of
		// size 20 remember them.
		l := newMemLog(t, n, sizes...)
		l.records = l.records[:17]
		l.leaves = l.leaves[:17]
		rep := l.verify(t)
		want := []finding{{17, tlog.Removed}, {18, tlog.Removed}, {19, tlog.Removed}}
		if got := recordFindings(rep); !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v:%s", got, want, dump(rep))
		}
		if rep.TreeSize != n {
			t.Fatalf("tree size: got %d, want %d (the largest checkpoint)", rep.TreeSize, n)
		}
	})

	t.Run("TailCutAfterLastCheckpoint", func(t *testing.T) {
		// What no checkpoint covers, a copy cannot miss: cutting records
		// appended after the last checkpoint, with their leaves, leaves a
		// log that verifies. (This is why checkpoints are signed within a
		// second of new records.)
		l := newMemLog(t, n, 0, 5, 13)
		l.records = l.records[:15]
		l.leaves = l.leaves[:15]
		if rep := l.verify(t); !rep.OK() {
			t.Fatalf("got findings, want none:%s", dump(rep))
		}
	})

	t.Run("LeafChanged", func(t *testing.T) {
		// The stored leaf changed, not the record: the record no longer
		// hashes to its stored leaf.
		l := newMemLog(t, n, sizes...)
		l.leaves = slices.Clone(l.leaves)
		l.leaves[12] = tlog.Hasher.HashLeaf([]byte("forged"))
		rep := l.verify(t)
		if got, want := recordFindings(rep), []finding{{12, tlog.Changed}}; !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v:%s", got, want, dump(rep))
		}
	})

	t.Run("RecordAndLeafRewritten", func(t *testing.T) {
		// Both the record and its stored leaf rewritten to agree: only the
		// signed checkpoints can tell.
		l := newMemLog(t, n, sizes...)
		r := l.record(10)
		r.NewValue = "rewritten"
		l.leaves = slices.Clone(l.leaves)
		l.leaves[10] = tlog.LeafHash(r)
		rep := l.verify(t)
		if got := findings(rep); len(got) != covering(sizes, 10) || countKind(rep, tlog.BadCheckpoint) != len(got) {
			t.Fatalf("got findings %v, want the %d checkpoints covering seq 10 to fail, and nothing else:%s", got, covering(sizes, 10), dump(rep))
		}
	})

	t.Run("BadSignature", func(t *testing.T) {
		l := newMemLog(t, n, sizes...)
		l.sign(t, newSigner(t), tlog.Origin(l.account), n, l.roots[n])
		rep := l.verify(t)
		if got, want := findings(rep), []finding{{-1, tlog.BadCheckpoint}}; !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v:%s", got, want, dump(rep))
		}
		if rep.Checkpoints != len(sizes) {
			t.Fatalf("checkpoints: got %d, want %d (the bad one is not counted)", rep.Checkpoints, len(sizes))
		}
	})

	t.Run("TamperedCheckpointText", func(t *testing.T) {
		l := newMemLog(t, n, sizes...)
		cp := []byte(string(l.checkpoints[3]))
		i := len(tlog.Origin(l.account)) + 1
		cp[i] = '9' // size 8 → 9, the signature no longer holds
		l.checkpoints[3] = cp
		rep := l.verify(t)
		if got, want := findings(rep), []finding{{-1, tlog.BadCheckpoint}}; !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v:%s", got, want, dump(rep))
		}
	})

	t.Run("Garbage", func(t *testing.T) {
		l := newMemLog(t, n, sizes...)
		l.checkpoints = append(l.checkpoints, []byte("not a note"), nil)
		rep := l.verify(t)
		if got := countKind(rep, tlog.BadCheckpoint); got != 2 || len(rep.Findings) != 2 {
			t.Fatalf("got %v, want two checkpoint findings:%s", findings(rep), dump(rep))
		}
	})

	t.Run("WrongOrigin", func(t *testing.T) {
		l := newMemLog(t, n, sizes...)
		l.sign(t, l.signer, tlog.Origin("other"), n, l.roots[n])
		rep := l.verify(t)
		if got, want := findings(rep), []finding{{-1, tlog.BadCheckpoint}}; !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v:%s", got, want, dump(rep))
		}
		if !strings.Contains(rep.Findings[0].Detail, "audittrail/other") {
			t.Fatalf("detail: got %q, want the wrong origin named", rep.Findings[0].Detail)
		}
	})

	t.Run("WrongRoot", func(t *testing.T) {
		// A well-signed checkpoint whose root is not the tree's.
		l := newMemLog(t, n, sizes...)
		l.sign(t, l.signer, tlog.Origin(l.account), n, l.roots[n-1])
		rep := l.verify(t)
		if got, want := findings(rep), []finding{{-1, tlog.BadCheckpoint}}; !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v:%s", got, want, dump(rep))
		}
	})

	t.Run("CheckpointBeyondTheLog", func(t *testing.T) {
		// A checkpoint that signed more records than the copy has: the
		// missing ones are named.
		l := newMemLog(t, n, sizes...)
		l.records, l.leaves = l.records[:18], l.leaves[:18]
		rep := l.verify(t)
		want := []finding{{18, tlog.Removed}, {19, tlog.Removed}}
		if got := recordFindings(rep); !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v:%s", got, want, dump(rep))
		}
	})

	t.Run("WrongKey", func(t *testing.T) {
		l := newMemLog(t, n, sizes...)
		rep, err := tlog.Verify(l.copy(), newSigner(t).VerifierKey())
		if err != nil {
			t.Fatal(err)
		}
		if got := countKind(rep, tlog.BadCheckpoint); got != len(sizes) || rep.Checkpoints != 0 {
			t.Fatalf("got %d checkpoint findings and %d checkpoints, want %d and 0:%s", got, rep.Checkpoints, len(sizes), dump(rep))
		}
	})

	t.Run("RecordsError", func(t *testing.T) {
		l := newMemLog(t, n, sizes...)
		c := l.copy()
		c.Records = func(func(*audittrail.Record) error) error { return fmt.Errorf("disk on fire") }
		if _, err := tlog.Verify(c, l.signer.VerifierKey()); err == nil || !strings.Contains(err.Error(), "disk on fire") {
			t.Fatalf("got %v, want the error of Records", err)
		}
	})
}

// TestVerifyCheckpointOrder: checkpoints are checked whatever the order
// they are stored in. Two signers running at once (the background job and
// a GET .../checkpoint, or two replicas) can store a checkpoint of a
// smaller tree after one of a larger tree: Log.Checkpoint reads the tree
// head, signs and stores in separate transactions, and FindCheckpoints
// returns them by insertion order. A checkpoint that does not match the
// tree must be found wherever it sits in the list.
func TestVerifyCheckpointOrder(t *testing.T) {
	const n = 20
	l := newMemLog(t, n, 5, 13, 8) // 8 stored after 13
	l.sign(t, l.signer, tlog.Origin(l.account), n, l.roots[n-1])
	rep := l.verify(t)
	if got := countKind(rep, tlog.BadCheckpoint); got != 1 {
		t.Fatalf("got %d checkpoint findings, want 1 (the last checkpoint signs the root of size %d as size %d):%s", got, n-1, n, dump(rep))
	}
}
