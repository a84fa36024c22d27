package tlog

import (
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
)

// NodeID names a node of the tree: level 0 holds the leaf hashes, and node
// (level, index) is the root of the perfect subtree over leaves
// [index·2^level, (index+1)·2^level).
type NodeID = compact.NodeID

var factory = &compact.RangeFactory{Hash: Hasher.HashChildren}

// Tree is an account's log as a compact range: enough to append leaves and
// compute the root without reading the tree.
type Tree struct {
	r *compact.Range
}

// NewTree returns the tree of the given size from its compact range (the
// roots of the perfect subtrees covering it, left to right), as Hashes gave
// it.
func NewTree(size uint64, hashes [][]byte) (*Tree, error) {
	r, err := factory.NewRange(0, size, hashes)
	if err != nil {
		return nil, fmt.Errorf("tlog: tree state: %w", err)
	}
	return &Tree{r: r}, nil
}

// Size returns the number of leaves.
func (t *Tree) Size() uint64 { return t.r.End() }

// Hashes returns the compact range to store beside the size.
func (t *Tree) Hashes() [][]byte { return t.r.Hashes() }

// Append adds a leaf hash and calls store with every node that becomes
// complete, the leaf itself included; a store keeps them all, for proofs.
func (t *Tree) Append(leafHash []byte, store func(id NodeID, hash []byte)) error {
	store(compact.NewNodeID(0, t.r.End()), leafHash)
	return t.r.Append(leafHash, func(id NodeID, hash []byte) {
		if id.Level > 0 {
			store(id, hash)
		}
	})
}

// Root returns the root hash (the hash of the empty string for an empty tree).
func (t *Tree) Root() []byte {
	if t.r.End() == 0 {
		return Hasher.EmptyRoot()
	}
	root, err := t.r.GetRootHash(nil)
	if err != nil {
		panic(err) // a non-empty range always has a root
	}
	return root
}

// ReadNodes returns the stored hashes of the given nodes, in order.
type ReadNodes func(ids []NodeID) ([][]byte, error)

// ErrTreeSize is returned for a proof asked of a size the tree does not have.
var ErrTreeSize = errors.New("tlog: tree size out of range")

// InclusionProof returns the RFC 6962 inclusion proof of leaf index in the
// tree of the given size, from stored nodes.
func InclusionProof(index, size uint64, read ReadNodes) ([][]byte, error) {
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTreeSize, err)
	}
	return fetch(nodes, read)
}

// ConsistencyProof returns the RFC 6962 consistency proof between the trees
// of size1 and size2, from stored nodes.
func ConsistencyProof(size1, size2 uint64, read ReadNodes) ([][]byte, error) {
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTreeSize, err)
	}
	return fetch(nodes, read)
}

func fetch(nodes proof.Nodes, read ReadNodes) ([][]byte, error) {
	if len(nodes.IDs) == 0 {
		return [][]byte{}, nil
	}
	hashes, err := read(nodes.IDs)
	if err != nil {
		return nil, err
	}
	return nodes.Rehash(hashes, Hasher.HashChildren)
}

// RootAt returns the root of the tree of the given size from stored nodes:
// the hash of the perfect subtrees that cover it.
func RootAt(size uint64, read ReadNodes) ([]byte, error) {
	if size == 0 {
		return Hasher.EmptyRoot(), nil
	}
	var ids []NodeID
	// The compact range [0, size): one perfect subtree per set bit of size,
	// largest first.
	begin := uint64(0)
	for level := 63; level >= 0; level-- {
		if size&(1<<uint(level)) != 0 {
			ids = append(ids, compact.NewNodeID(uint(level), begin>>uint(level)))
			begin += 1 << uint(level)
		}
	}
	hashes, err := read(ids)
	if err != nil {
		return nil, err
	}
	t, err := NewTree(size, hashes)
	if err != nil {
		return nil, err
	}
	return t.Root(), nil
}

// VerifyInclusion checks an inclusion proof against a root.
func VerifyInclusion(index, size uint64, leafHash []byte, p [][]byte, root []byte) error {
	return proof.VerifyInclusion(Hasher, index, size, leafHash, p, root)
}

// VerifyConsistency checks a consistency proof between two roots.
func VerifyConsistency(size1, size2 uint64, p [][]byte, root1, root2 []byte) error {
	return proof.VerifyConsistency(Hasher, size1, size2, p, root1, root2)
}
