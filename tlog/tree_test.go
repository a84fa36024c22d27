package tlog_test

import (
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/audittrail/audittrail/tlog"
)

// memNodes is a node store in memory, for the tree's own tests.
type memNodes map[tlog.NodeID][]byte

func (m memNodes) read(ids []tlog.NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, ok := m[id]
		if !ok {
			return nil, fmt.Errorf("node %v not stored", id)
		}
		out[i] = h
	}
	return out, nil
}

func TestTreeProofs(t *testing.T) {
	nodes := memNodes{}
	tree, err := tlog.NewTree(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var leaves [][]byte
	roots := map[uint64][]byte{0: tree.Root()}
	for i := 0; i < 70; i++ {
		leaf := tlog.Hasher.HashLeaf([]byte(fmt.Sprint("leaf ", i)))
		leaves = append(leaves, leaf)
		if err := tree.Append(leaf, func(id tlog.NodeID, h []byte) { nodes[id] = h }); err != nil {
			t.Fatal(err)
		}
		roots[tree.Size()] = tree.Root()
		// The tree reloaded from its compact range has the same root.
		again, err := tlog.NewTree(tree.Size(), tree.Hashes())
		if err != nil || string(again.Root()) != string(tree.Root()) {
			t.Fatalf("size %d: reloaded root differs (%v)", tree.Size(), err)
		}
		if root, err := tlog.RootAt(tree.Size(), nodes.read); err != nil || string(root) != string(tree.Root()) {
			t.Fatalf("size %d: RootAt from nodes differs (%v)", tree.Size(), err)
		}
	}
	for size := uint64(1); size <= 70; size++ {
		for idx := uint64(0); idx < size; idx++ {
			p, err := tlog.InclusionProof(idx, size, nodes.read)
			if err != nil {
				t.Fatalf("inclusion %d/%d: %v", idx, size, err)
			}
			if err := tlog.VerifyInclusion(idx, size, leaves[idx], p, roots[size]); err != nil {
				t.Fatalf("inclusion %d/%d: got %v, want valid", idx, size, err)
			}
		}
		for from := uint64(0); from <= size; from++ {
			p, err := tlog.ConsistencyProof(from, size, nodes.read)
			if err != nil {
				t.Fatalf("consistency %d→%d: %v", from, size, err)
			}
			if err := tlog.VerifyConsistency(from, size, p, roots[from], roots[size]); err != nil {
				t.Fatalf("consistency %d→%d: got %v, want valid", from, size, err)
			}
		}
	}
	empty := sha256.Sum256(nil)
	if string(roots[0]) != string(empty[:]) {
		t.Fatalf("empty root: got %x, want %x", roots[0], empty)
	}
}

func TestCheckpoint(t *testing.T) {
	skey, err := tlog.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := tlog.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	cp := tlog.Checkpoint{Origin: tlog.Origin("acme"), Size: 5, Hash: make([]byte, 32), Extensions: []string{"timestamp 1"}}
	signed, err := s.Sign(cp)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tlog.OpenCheckpoint(signed, s.VerifierKey())
	if err != nil || got.Origin != "audittrail/acme" || got.Size != 5 {
		t.Fatalf("got %+v, %v", got, err)
	}
	other, _ := tlog.GenerateKey()
	os, _ := tlog.NewSigner(other)
	if _, err := tlog.OpenCheckpoint(signed, os.VerifierKey()); err == nil {
		t.Fatal("a checkpoint opened with another key")
	}
	tampered := []byte(string(signed))
	tampered[len("audittrail/acme\n")] = '6'
	if _, err := tlog.OpenCheckpoint(tampered, s.VerifierKey()); err == nil {
		t.Fatal("a tampered checkpoint opened")
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Add("audittrail/acme\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
	f.Add("audittrail/acme\n05\nAAAA\nx\n")
	f.Add("o\n18446744073709551615\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next line\n")
	f.Fuzz(func(t *testing.T, text string) {
		cp, err := tlog.ParseCheckpoint(text)
		if err != nil {
			return
		}
		again, err := tlog.ParseCheckpoint(cp.String())
		if err != nil || again.String() != cp.String() {
			t.Fatalf("round trip: got %q (%v), want %q", again.String(), err, cp.String())
		}
	})
}
