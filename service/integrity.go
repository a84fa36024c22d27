package service

import (
	"context"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/tlog"
)

// CheckpointKey returns the note verifier key that checks the service's
// checkpoints. Any user holding audit_trail.view may read it, whatever
// their account.
func (s *Service) CheckpointKey(p *audittrail.Principal) (string, error) {
	if err := Authorize(p, Viewer, ""); err != nil {
		return "", err
	}
	return s.log.Signer.VerifierKey(), nil
}

// Checkpoint returns a signed checkpoint of the account's tree, signing a
// new one when the newest is older than tlog.MaxCheckpointAge or smaller
// than the tree. Viewers only.
func (s *Service) Checkpoint(ctx context.Context, p *audittrail.Principal, accountID string) (*audittrail.Checkpoint, error) {
	if err := Authorize(p, Viewer, accountID); err != nil {
		return nil, err
	}
	return s.log.Checkpoint(ctx, accountID, tlog.MaxCheckpointAge)
}

// InclusionProof is the proof that a record is a leaf of the account's tree
// of TreeSize leaves.
type InclusionProof struct {
	LeafIndex int64
	TreeSize  uint64
	LeafHash  []byte
	Hashes    [][]byte
}

// ProveRecord returns the inclusion proof of a record inside the retention
// window in the tree of size (0: the size of the newest checkpoint).
// Viewers only. Returns ENOTFOUND, EINVALIDPARAMETER.
func (s *Service) ProveRecord(ctx context.Context, p *audittrail.Principal, accountID, recordID string, treeSize *uint64) (*InclusionProof, error) {
	rec, err := s.FindRecord(ctx, p, accountID, recordID)
	if err != nil {
		return nil, err
	}
	var size uint64
	if treeSize != nil {
		size = *treeSize
	} else {
		cp, err := s.log.Checkpoint(ctx, accountID, tlog.MaxCheckpointAge)
		if err != nil {
			return nil, err
		}
		size = cp.TreeSize
	}
	leaf, hashes, err := s.log.InclusionProof(ctx, accountID, rec.Seq, size)
	if err != nil {
		return nil, err
	}
	return &InclusionProof{LeafIndex: rec.Seq, TreeSize: size, LeafHash: leaf, Hashes: hashes}, nil
}

// ProveConsistency returns the proof that the account's tree of size from
// is a prefix of its tree of size to. Viewers only.
func (s *Service) ProveConsistency(ctx context.Context, p *audittrail.Principal, accountID string, from, to uint64) ([][]byte, error) {
	if err := Authorize(p, Viewer, accountID); err != nil {
		return nil, err
	}
	return s.log.ConsistencyProof(ctx, accountID, from, to)
}
