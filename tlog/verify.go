package tlog

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/audittrail/audittrail"
)

// Kinds of finding.
const (
	Changed       = "changed"    // the record's content no longer hashes to its leaf
	Removed       = "removed"    // the record is missing, and was not purged
	Inserted      = "inserted"   // a record that the log never held
	BadCheckpoint = "checkpoint" // a checkpoint that does not verify or does not match the tree
)

// Finding is one problem that Verify found.
type Finding struct {
	Seq    int64 // the record's seq; -1 for a checkpoint finding
	Kind   string
	Detail string
}

func (f Finding) String() string {
	if f.Seq < 0 {
		return fmt.Sprintf("%s: %s", f.Kind, f.Detail)
	}
	return fmt.Sprintf("seq %d %s: %s", f.Seq, f.Kind, f.Detail)
}

// LogCopy is what Verify reads of an account's log.
type LogCopy struct {
	Account string
	// Leaves are the stored leaf hashes by seq (nil where none is stored).
	Leaves [][]byte
	// Purged reports whether the record of seq was removed by retention.
	Purged func(seq int64) bool
	// Records calls fn with every stored record of the account in seq order.
	Records func(fn func(*audittrail.Record) error) error
	// Checkpoints are the signed checkpoints, oldest first.
	Checkpoints [][]byte
}

// Report is the outcome of Verify.
type Report struct {
	TreeSize    uint64
	Records     int
	Checkpoints int
	Findings    []Finding
}

// OK reports whether everything held.
func (r *Report) OK() bool { return len(r.Findings) == 0 }

// Verify recomputes every record's leaf from its content, rebuilds the tree
// from those leaves (and from the stored leaf hashes of purged records), and
// checks the tree against every checkpoint, whose signatures it verifies
// with vkey. It names the seq of each record that was changed, removed or
// inserted.
func Verify(c LogCopy, vkey string) (*Report, error) {
	rep := &Report{}
	var cps []Checkpoint
	for i, signed := range c.Checkpoints {
		cp, err := OpenCheckpoint(signed, vkey)
		switch {
		case err != nil:
			rep.add(-1, BadCheckpoint, "checkpoint %d: %v", i, err)
		case cp.Origin != Origin(c.Account):
			rep.add(-1, BadCheckpoint, "checkpoint %d has origin %q, want %q", i, cp.Origin, Origin(c.Account))
		default:
			cps = append(cps, cp)
		}
	}
	rep.Checkpoints = len(cps)
	// The tree is rebuilt once, leaf by leaf: each checkpoint is checked when
	// the tree reaches its size, whatever order the checkpoints came in.
	sort.SliceStable(cps, func(i, j int) bool { return cps[i].Size < cps[j].Size })

	// The size the log must have: what the store says, and at least what
	// any checkpoint signed.
	size := uint64(len(c.Leaves))
	for _, cp := range cps {
		size = max(size, cp.Size)
	}
	leaves := make([][]byte, size)
	present := make([]bool, size)
	err := c.Records(func(r *audittrail.Record) error {
		rep.Records++
		if r.Seq < 0 || uint64(r.Seq) >= size {
			rep.add(r.Seq, Inserted, "no leaf of the log and no checkpoint covers this record")
			return nil
		}
		if present[r.Seq] {
			rep.add(r.Seq, Inserted, "a second record with this seq")
			return nil
		}
		present[r.Seq] = true
		leaves[r.Seq] = LeafHash(r)
		if stored := leafAt(c.Leaves, r.Seq); stored != nil && !bytes.Equal(stored, leaves[r.Seq]) {
			rep.add(r.Seq, Changed, "its content does not hash to the leaf stored when it was appended")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for seq := int64(0); seq < int64(size); seq++ {
		if present[seq] {
			continue
		}
		stored := leafAt(c.Leaves, seq)
		if stored == nil || !c.Purged(seq) {
			rep.add(seq, Removed, "the record is missing")
		}
		leaves[seq] = stored
	}

	// Rebuild the tree and compare its root at every checkpoint's size.
	t, _ := NewTree(0, nil)
	next := 0
	check := func() {
		for next < len(cps) && cps[next].Size == t.Size() {
			if !cps[next].SameRoot(t.Root()) {
				rep.add(-1, BadCheckpoint, "the tree of size %d does not have the root signed in its checkpoint", cps[next].Size)
			}
			next++
		}
	}
	check()
	for seq, leaf := range leaves {
		if leaf == nil {
			leaf = make([]byte, 32) // a removed record with no stored leaf: any value makes its root wrong, as it should
		}
		if err := t.Append(leaf, func(NodeID, []byte) {}); err != nil {
			return nil, fmt.Errorf("tlog: rebuild at seq %d: %w", seq, err)
		}
		check()
	}
	rep.TreeSize = t.Size()
	return rep, nil
}

func leafAt(leaves [][]byte, seq int64) []byte {
	if seq < 0 || seq >= int64(len(leaves)) {
		return nil
	}
	return leaves[seq]
}

func (r *Report) add(seq int64, kind, format string, args ...any) {
	r.Findings = append(r.Findings, Finding{Seq: seq, Kind: kind, Detail: fmt.Sprintf(format, args...)})
}
