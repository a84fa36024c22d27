package service

import (
	"context"
	"strconv"

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
func (s *Service) Checkpoint(ctx context.Context, p *audittrail.Principal, accountID string) (cp *audittrail.Checkpoint, err error) {
	err = s.logged(ctx, p, reading{account: accountID, action: audittrail.AccessCheckpoint}, func() (int, error) {
		cp, err = s.log.Checkpoint(ctx, accountID, tlog.MaxCheckpointAge)
		return 0, err
	})
	if err != nil {
		return nil, err
	}
	return cp, nil
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
// Viewers only; logged. Returns ENOTFOUND, EINVALIDPARAMETER.
func (s *Service) ProveRecord(ctx context.Context, p *audittrail.Principal, accountID, recordID string, treeSize *uint64) (proof *InclusionProof, err error) {
	filters := map[string]string{"id": audittrail.Clip(recordID)}
	if treeSize != nil {
		filters["tree_size"] = strconv.FormatUint(*treeSize, 10)
	}
	err = s.logged(ctx, p, reading{account: accountID, action: audittrail.AccessProof, filters: filters}, func() (int, error) {
		proof, err = s.proveRecord(ctx, accountID, recordID, treeSize)
		if err != nil {
			return 0, err
		}
		return 1, nil
	})
	if err != nil {
		return nil, err
	}
	return proof, nil
}

func (s *Service) proveRecord(ctx context.Context, accountID, recordID string, treeSize *uint64) (*InclusionProof, error) {
	rec, err := s.findRecord(ctx, accountID, recordID)
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
// is a prefix of its tree of size to. Viewers only; logged.
func (s *Service) ProveConsistency(ctx context.Context, p *audittrail.Principal, accountID string, from, to uint64) (hashes [][]byte, err error) {
	filters := map[string]string{"from": strconv.FormatUint(from, 10), "to": strconv.FormatUint(to, 10)}
	err = s.logged(ctx, p, reading{account: accountID, action: audittrail.AccessProof, filters: filters}, func() (int, error) {
		hashes, err = s.log.ConsistencyProof(ctx, accountID, from, to)
		return 0, err
	})
	if err != nil {
		return nil, err
	}
	return hashes, nil
}
