package tlog_test

import (
	"bytes"
	"fmt"
	"math/bits"
	"slices"
	"sync"
	"testing"

	"github.com/audittrail/audittrail/tlog"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
)

// fuzzTree is a real tree of fuzzLeaves leaves with every node stored, and
// the root of every size: what the proof fuzzers verify against.
type fuzzTree struct {
	leaves [][]byte
	nodes  memNodes
	roots  [][]byte // roots[size]
}

const fuzzLeaves = 45

var (
	fuzzTreeOnce sync.Once
	theFuzzTree  *fuzzTree
)

func getFuzzTree(tb testing.TB) *fuzzTree {
	fuzzTreeOnce.Do(func() {
		ft := &fuzzTree{nodes: memNodes{}}
		tree, err := tlog.NewTree(0, nil)
		if err != nil {
			panic(err)
		}
		ft.roots = append(ft.roots, tree.Root())
		for i := range fuzzLeaves {
			leaf := tlog.Hasher.HashLeaf([]byte(fmt.Sprint("fuzz leaf ", i)))
			ft.leaves = append(ft.leaves, leaf)
			if err := tree.Append(leaf, func(id tlog.NodeID, h []byte) { ft.nodes[id] = h }); err != nil {
				panic(err)
			}
			ft.roots = append(ft.roots, tree.Root())
		}
		theFuzzTree = ft
	})
	return theFuzzTree
}

// mutate derives a proof from a real one, driven by the fuzzer's bytes:
// mode 0 flips the bits of ops over the proof's bytes; 1 replaces the proof
// by ops cut into 32-byte hashes (the last may be short); 2 drops, inserts
// or duplicates a hash; 3 keeps the proof as is.
func mutate(real [][]byte, mode uint8, ops []byte) [][]byte {
	p := make([][]byte, len(real))
	for i, h := range real {
		p[i] = bytes.Clone(h)
	}
	switch mode % 4 {
	case 0:
		for i, b := range ops {
			if len(p) == 0 {
				break
			}
			k := i % (len(p) * 32)
			p[k/32][k%32] ^= b
		}
	case 1:
		p = nil
		for len(ops) > 0 {
			n := min(32, len(ops))
			p = append(p, bytes.Clone(ops[:n]))
			ops = ops[n:]
		}
	case 2:
		if len(ops) == 0 {
			break
		}
		at := int(ops[0])
		h := make([]byte, 32)
		copy(h, ops[1:])
		switch {
		case ops[0]&1 == 0 && len(p) > 0:
			p = slices.Delete(p, at%len(p), at%len(p)+1)
		case ops[0]&2 == 0 && len(p) > 0:
			p = slices.Insert(p, at%(len(p)+1), bytes.Clone(p[at%len(p)]))
		default:
			p = slices.Insert(p, at%(len(p)+1), h)
		}
	}
	return p
}

func sameProof(a, b [][]byte) bool {
	return slices.EqualFunc(a, b, bytes.Equal)
}

// FuzzInclusionProof verifies proofs derived from real ones, with any leaf
// index and tree size, against the true root of that size: verification
// never panics, and it accepts only the real proof of the real leaf at its
// real index.
func FuzzInclusionProof(f *testing.F) {
	f.Add(uint64(0), uint64(1), uint64(0), uint8(3), []byte{})
	f.Add(uint64(7), uint64(45), uint64(7), uint8(3), []byte{})
	f.Add(uint64(7), uint64(45), uint64(8), uint8(3), []byte{})
	f.Add(uint64(7), uint64(45), uint64(6), uint8(0), []byte{0, 0, 0, 1})
	f.Add(uint64(44), uint64(45), uint64(44), uint8(2), []byte{4, 9})
	f.Add(uint64(31), uint64(32), uint64(31), uint8(2), []byte{3})
	f.Add(uint64(3), uint64(6), uint64(3), uint8(1), bytes.Repeat([]byte{0xab}, 70))
	f.Add(uint64(1<<63), uint64(1<<64-1), uint64(1<<63), uint8(3), []byte{})
	f.Fuzz(func(t *testing.T, leafIdx, size, index uint64, mode uint8, ops []byte) {
		ft := getFuzzTree(t)
		s := 1 + size%fuzzLeaves
		li := leafIdx % s
		real, err := tlog.InclusionProof(li, s, ft.nodes.read)
		if err != nil {
			t.Fatalf("InclusionProof(%d, %d): %v", li, s, err)
		}
		if err := tlog.VerifyInclusion(li, s, ft.leaves[li], real, ft.roots[s]); err != nil {
			t.Fatalf("the real proof of %d in %d does not verify: %v", li, s, err)
		}
		p := mutate(real, mode, ops)
		// index as given (any uint64), against the true root of size s.
		err = tlog.VerifyInclusion(index, s, ft.leaves[li], p, ft.roots[s])
		if err == nil && (index != li || !sameProof(p, real)) {
			t.Fatalf("accepted a wrong proof: leaf %d claimed at index %d of %d, proof %x (real %x)", li, index, s, p, real)
		}
		// Any size, with the proof and root of size s: never a panic, and
		// out-of-range sizes are refused.
		err = tlog.VerifyInclusion(index, size, ft.leaves[li], p, ft.roots[s])
		if err == nil && index >= size {
			t.Fatalf("accepted index %d in a tree of size %d", index, size)
		}
		// The real proof does not prove another leaf.
		other := ft.leaves[(li+1)%uint64(fuzzLeaves)]
		if err := tlog.VerifyInclusion(li, s, other, real, ft.roots[s]); err == nil && !bytes.Equal(other, ft.leaves[li]) {
			t.Fatalf("the proof of leaf %d of %d proves another leaf", li, s)
		}
	})
}

// FuzzConsistencyProof does the same for consistency proofs between any
// two sizes of the tree.
func FuzzConsistencyProof(f *testing.F) {
	f.Add(uint64(0), uint64(0), uint8(3), []byte{})
	f.Add(uint64(3), uint64(7), uint8(3), []byte{})
	f.Add(uint64(8), uint64(45), uint8(0), []byte{1})
	f.Add(uint64(13), uint64(44), uint8(2), []byte{2, 5})
	f.Add(uint64(20), uint64(20), uint8(2), []byte{7, 1, 2})
	f.Add(uint64(5), uint64(9), uint8(1), bytes.Repeat([]byte{1}, 96))
	f.Fuzz(func(t *testing.T, from, to uint64, mode uint8, ops []byte) {
		ft := getFuzzTree(t)
		s2 := to % (fuzzLeaves + 1)
		s1 := from % (s2 + 1)
		real, err := tlog.ConsistencyProof(s1, s2, ft.nodes.read)
		if err != nil {
			t.Fatalf("ConsistencyProof(%d, %d): %v", s1, s2, err)
		}
		if err := tlog.VerifyConsistency(s1, s2, real, ft.roots[s1], ft.roots[s2]); err != nil {
			t.Fatalf("the real proof %d→%d does not verify: %v", s1, s2, err)
		}
		p := mutate(real, mode, ops)
		err = tlog.VerifyConsistency(s1, s2, p, ft.roots[s1], ft.roots[s2])
		// Between equal sizes, and from the empty tree, the proof is empty
		// and anything else must be refused too.
		if err == nil && !sameProof(p, real) {
			t.Fatalf("accepted a wrong proof %d→%d: %x (real %x)", s1, s2, p, real)
		}
		// Any sizes: never a panic. (Whether the proof of s1→s2 also
		// passes for other sizes is not asked: a verifier takes both sizes
		// from signed checkpoints, never from the proof.)
		_ = tlog.VerifyConsistency(from, to, p, ft.roots[s1], ft.roots[s2])
	})
}

// FuzzOpenCheckpoint opens fuzzed signed notes: OpenCheckpoint never
// panics, and whatever it accepts is one of the checkpoints that were
// really signed with the key (a fuzzer cannot forge Ed25519, so any
// accepted variation must carry the same text).
func FuzzOpenCheckpoint(f *testing.F) {
	signer := newSigner(f)
	signed := map[string]bool{}
	for _, cp := range []tlog.Checkpoint{
		{Origin: tlog.Origin("acme"), Size: 0, Hash: tlog.Hasher.EmptyRoot(), Extensions: []string{"timestamp 1767322800"}},
		{Origin: tlog.Origin("acme"), Size: 5, Hash: bytes.Repeat([]byte{7}, 32), Extensions: []string{"timestamp 1767322800"}},
		{Origin: tlog.Origin("a-b"), Size: 1<<64 - 1, Hash: bytes.Repeat([]byte{0xff}, 32)},
	} {
		note, err := signer.Sign(cp)
		if err != nil {
			f.Fatal(err)
		}
		signed[cp.String()] = true
		f.Add(note)
		// Variations: another (unknown) signature line, the signature cut,
		// a blank line removed, a byte changed.
		other := newSigner(f)
		if again, err := other.Sign(cp); err == nil {
			f.Add(append(bytes.Clone(note), again[len(cp.String())+1:]...))
			f.Add(again)
		}
		f.Add(note[:len(note)-10])
		f.Add(bytes.Replace(note, []byte("\n\n"), []byte("\n"), 1))
		flipped := bytes.Clone(note)
		flipped[len(cp.Origin)+1] ^= 1
		f.Add(flipped)
	}
	// A note whose text is not a checkpoint, properly signed.
	if n, err := signer.Sign(tlog.Checkpoint{Origin: "x", Size: 1, Hash: []byte{1}}); err == nil {
		f.Add(n)
	}
	f.Add([]byte(""))
	f.Add([]byte("\n\n— audittrail AAAA\n"))
	vkey := signer.VerifierKey()
	f.Fuzz(func(t *testing.T, note []byte) {
		cp, err := tlog.OpenCheckpoint(note, vkey)
		if err != nil {
			return
		}
		if !signed[cp.String()] {
			t.Fatalf("opened a checkpoint that was never signed: %q", cp.String())
		}
		if len(cp.Hash) != 32 {
			t.Fatalf("opened a checkpoint with a %d-byte root", len(cp.Hash))
		}
	})
}

// TestProofShape: a proof's length is fixed by the index and size, as the
// RFC 9162 decomposition; a client must not take it from anywhere else.
// Also checks that every node the proofs need is one the store
// keeps (a perfect subtree's root).
func TestProofShape(t *testing.T) {
	ft := getFuzzTree(t)
	for size := uint64(1); size <= fuzzLeaves; size++ {
		for idx := range size {
			nodes, err := proof.Inclusion(idx, size)
			if err != nil {
				t.Fatal(err)
			}
			p, err := tlog.InclusionProof(idx, size, ft.nodes.read)
			if err != nil {
				t.Fatal(err)
			}
			// RFC 9162 §2.1.3.2: the inner part of the path, then one hash
			// per perfect subtree on the right border.
			inner := bits.Len64(idx ^ (size - 1))
			want := inner + bits.OnesCount64(idx>>inner)
			if len(p) != want {
				t.Fatalf("inclusion %d/%d: %d hashes, want %d", idx, size, len(p), want)
			}
			for _, id := range nodes.IDs {
				if _, ok := ft.nodes[compact.NodeID(id)]; !ok {
					t.Fatalf("inclusion %d/%d needs node %v, which the tree does not store", idx, size, id)
				}
			}
		}
	}
}
