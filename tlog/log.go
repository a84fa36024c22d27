package tlog

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/audittrail/audittrail"
)

// Log serves the integrity log of every account from a store: it signs
// checkpoints and builds proofs. It never signs a tree that is not
// consistent with the account's previous checkpoint.
type Log struct {
	Store  audittrail.Store
	Signer *Signer
	Logger *slog.Logger
	Now    func() time.Time
}

// MaxCheckpointAge is how old the newest checkpoint of an account may get
// before a new one is signed even when nothing was appended, so that a
// service that stopped signing is visible.
const MaxCheckpointAge = 10 * time.Minute

// Checkpoint returns the account's newest checkpoint, signing a new one
// first when the tree grew since the last one or the last one is older
// than maxAge. When several signers (replicas sharing one store) sign at
// once, the store keeps the checkpoints growing: one whose tree is smaller
// than the newest stored is refused (ECONFLICT), and Checkpoint then
// returns the newest stored.
func (l *Log) Checkpoint(ctx context.Context, account string, maxAge time.Duration) (*audittrail.Checkpoint, error) {
	latest, err := l.Store.LatestCheckpoint(ctx, account)
	if err != nil && audittrail.ErrorCode(err) != audittrail.ENOTFOUND {
		return nil, err
	}
	size, hashes, err := l.Store.TreeHead(ctx, account)
	if err != nil {
		return nil, err
	}
	if latest != nil && latest.TreeSize == size && l.Now().Sub(latest.CreatedAt) < maxAge {
		return latest, nil
	}
	t, err := NewTree(size, hashes)
	if err != nil {
		return nil, err
	}
	root := t.Root()
	if latest != nil {
		if err := l.checkConsistent(ctx, account, latest, size, root); err != nil {
			return nil, err
		}
	}
	cp := Checkpoint{Origin: Origin(account), Size: size, Hash: root,
		Extensions: []string{"timestamp " + strconv.FormatInt(l.Now().Unix(), 10)}}
	signed, err := l.Signer.Sign(cp)
	if err != nil {
		return nil, err
	}
	stored := &audittrail.Checkpoint{AccountID: account, TreeSize: size, RootHash: root, Note: signed}
	if err := l.Store.AddCheckpoint(ctx, stored); audittrail.ErrorCode(err) == audittrail.ECONFLICT {
		// Another signer (a replica) stored a checkpoint of a larger tree
		// since this one read the tree: that one is the newest.
		return l.Store.LatestCheckpoint(ctx, account)
	} else if err != nil {
		return nil, err
	}
	return stored, nil
}

// checkConsistent refuses to sign a tree that does not extend the one the
// previous checkpoint signed.
func (l *Log) checkConsistent(ctx context.Context, account string, prev *audittrail.Checkpoint, size uint64, root []byte) error {
	if size < prev.TreeSize {
		return fmt.Errorf("tlog: account %s: the tree shrank from %d to %d; no checkpoint signed", account, prev.TreeSize, size)
	}
	p, err := ConsistencyProof(prev.TreeSize, size, l.reader(ctx, account))
	if err == nil {
		err = VerifyConsistency(prev.TreeSize, size, p, prev.RootHash, root)
	}
	if err != nil {
		return fmt.Errorf("tlog: account %s: the tree of size %d is not consistent with checkpoint %d: %w; no checkpoint signed", account, size, prev.TreeSize, err)
	}
	return nil
}

func (l *Log) reader(ctx context.Context, account string) ReadNodes {
	return func(ids []NodeID) ([][]byte, error) {
		conv := make([]audittrail.NodeID, len(ids))
		for i, id := range ids {
			conv[i] = audittrail.NodeID(id)
		}
		return l.Store.TreeNodes(ctx, account, conv)
	}
}

// InclusionProof returns the leaf hash of the record with the given seq
// and its inclusion proof in the tree of the given size.
func (l *Log) InclusionProof(ctx context.Context, account string, seq int64, size uint64) (leaf []byte, proof [][]byte, err error) {
	treeSize, _, err := l.Store.TreeHead(ctx, account)
	if err != nil {
		return nil, nil, err
	}
	if size == 0 || size > treeSize || seq < 0 || uint64(seq) >= size {
		return nil, nil, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "tree_size must be greater than the record's seq (%d) and at most the log's size (%d)", seq, treeSize)
	}
	leaves, err := l.Store.TreeNodes(ctx, account, []audittrail.NodeID{{Level: 0, Index: uint64(seq)}})
	if err != nil {
		return nil, nil, err
	}
	proof, err = InclusionProof(uint64(seq), size, l.reader(ctx, account))
	return leaves[0], proof, err
}

// ConsistencyProof returns the consistency proof between the trees of
// sizes from and to.
func (l *Log) ConsistencyProof(ctx context.Context, account string, from, to uint64) ([][]byte, error) {
	treeSize, _, err := l.Store.TreeHead(ctx, account)
	if err != nil {
		return nil, err
	}
	if from > to || to > treeSize {
		return nil, audittrail.Errorf(audittrail.EINVALIDPARAMETER, "from and to must satisfy 0 <= from <= to <= %d (the log's size)", treeSize)
	}
	return ConsistencyProof(from, to, l.reader(ctx, account))
}

// Run signs, every interval until ctx ends, a checkpoint for each account
// whose tree grew or whose newest checkpoint is older than
// MaxCheckpointAge.
func (l *Log) Run(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		ids, err := l.Store.FindAccountIDs(ctx)
		if err != nil {
			l.Logger.Error("checkpoints: list accounts", "error", err.Error())
			continue
		}
		for _, id := range ids {
			if _, err := l.Checkpoint(ctx, id, MaxCheckpointAge); err != nil && ctx.Err() == nil {
				l.Logger.Error("checkpoint not signed", "account", id, "error", err.Error())
			}
		}
	}
}
