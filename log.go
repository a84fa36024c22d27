package audittrail

import (
	"context"
	"fmt"
	"time"
)

// NodeID names a node of an account's Merkle tree: level 0 holds the leaf
// hashes, and node (Level, Index) is the root of the perfect subtree over
// leaves [Index·2^Level, (Index+1)·2^Level). It has the shape of
// transparency-dev/merkle's compact.NodeID, so either converts to the other.
type NodeID struct {
	Level uint
	Index uint64
}

// Checkpoint is a signed statement of the size and root of an account's
// tree (a C2SP tlog-checkpoint note); tlog/ makes and checks them.
type Checkpoint struct {
	AccountID string
	TreeSize  uint64
	RootHash  []byte
	Note      []byte // the signed note, as served
	CreatedAt time.Time
}

// LogStore keeps each account's Merkle tree over its records, in seq order,
// and the checkpoints signed for it. AppendRecords adds the leaves of the
// records it stores, and the tree's new nodes, in its own transaction.
type LogStore interface {
	// TreeHead returns the size and the compact range of the account's
	// tree: the roots of the perfect subtrees that cover it, left to right.
	TreeHead(ctx context.Context, accountID string) (size uint64, hashes [][]byte, err error)

	// TreeNodes returns the hashes of the given nodes, in order. Returns
	// ENOTFOUND when one is not stored.
	TreeNodes(ctx context.Context, accountID string, ids []NodeID) ([][]byte, error)

	// LeafHashes returns the stored leaf hashes of the account by seq and
	// the seqs whose records the retention purge removed.
	LeafHashes(ctx context.Context, accountID string) (leaves [][]byte, purged map[int64]bool, err error)

	// IterateRecordsBySeq calls fn with every stored record of the account,
	// in seq order, whatever its date.
	IterateRecordsBySeq(ctx context.Context, accountID string, fn func(*Record) error) error

	// AddCheckpoint stores a signed checkpoint, its CreatedAt set to the
	// store's clock. The checkpoints of an account only grow: a checkpoint
	// of a smaller tree than the newest stored is refused with ECONFLICT.
	AddCheckpoint(ctx context.Context, cp *Checkpoint) error

	// LatestCheckpoint returns the newest checkpoint; ENOTFOUND if none.
	LatestCheckpoint(ctx context.Context, accountID string) (*Checkpoint, error)

	// FindCheckpoints returns every checkpoint of the account, oldest first.
	FindCheckpoints(ctx context.Context, accountID string) ([]*Checkpoint, error)

	// PurgeRecords removes the records of every account dated before
	// cutoff, keeping their leaves and nodes so that proofs and checkpoints
	// stay valid, and returns how many it removed.
	PurgeRecords(ctx context.Context, cutoff time.Time) (int, error)
}

// PackHashes returns the hashes of a compact range (LogHead.TreeHashes),
// 32 bytes each, as one byte string: the column that backends keep them in.
func PackHashes(hashes [][]byte) []byte {
	packed := make([]byte, 0, 32*len(hashes))
	for _, h := range hashes {
		packed = append(packed, h...)
	}
	return packed
}

// UnpackHashes returns the hashes that PackHashes packed. Returns an
// internal error naming the account when packed is not a whole number of
// hashes.
func UnpackHashes(accountID string, packed []byte) ([][]byte, error) {
	if len(packed)%32 != 0 {
		return nil, fmt.Errorf("account %s: tree state is corrupt", accountID)
	}
	hashes := make([][]byte, 0, len(packed)/32)
	for i := 0; i < len(packed); i += 32 {
		hashes = append(hashes, packed[i:i+32:i+32])
	}
	return hashes, nil
}
