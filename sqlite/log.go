package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/internal/txkit"
)

// FindLogHead returns the head of the account's log. Returns ENOTFOUND.
func (tx *txn) FindLogHead(accountID string) (head audittrail.LogHead, err error) {
	var packed []byte
	err = tx.queryRow(`SELECT next_seq, tree_size, tree_hashes FROM accounts WHERE id = ?`, accountID).Scan(&head.NextSeq, &head.TreeSize, &packed)
	if err != nil {
		return head, translate(err, txkit.AccountNotFound(accountID), "")
	}
	head.TreeHashes, err = audittrail.UnpackHashes(accountID, packed)
	return head, err
}

// SaveLogHead stores the head of the account's log.
func (tx *txn) SaveLogHead(accountID string, head audittrail.LogHead) error {
	_, err := tx.exec(`UPDATE accounts SET next_seq = ?, tree_size = ?, tree_hashes = ? WHERE id = ?`,
		head.NextSeq, head.TreeSize, audittrail.PackHashes(head.TreeHashes), accountID)
	return err
}

// InsertTreeNodes stores nodes of the account's tree, by one prepared
// statement run per node.
func (tx *txn) InsertTreeNodes(accountID string, nodes []audittrail.TreeNode) error {
	for _, n := range nodes {
		if _, err := tx.exec(`INSERT INTO tree_nodes (account_id, level, idx, hash) VALUES (?, ?, ?, ?)`, accountID, n.ID.Level, n.ID.Index, n.Hash); err != nil {
			return err
		}
	}
	return nil
}

// TreeNodes returns the hashes of the given nodes, in order. Returns
// ENOTFOUND when one is not stored.
func (tx *txn) TreeNodes(accountID string, ids []audittrail.NodeID) ([][]byte, error) {
	hashes := make([][]byte, len(ids))
	for i, id := range ids {
		err := tx.queryRow(`SELECT hash FROM tree_nodes WHERE account_id = ? AND level = ? AND idx = ?`, accountID, id.Level, id.Index).Scan(&hashes[i])
		if errors.Is(err, sql.ErrNoRows) {
			return nil, txkit.NodeNotStored(accountID, id)
		} else if err != nil {
			return nil, err
		}
	}
	return hashes, nil
}

// LeafHashes returns the stored leaf hashes of the account by seq, and the
// seqs the retention purge removed.
func (tx *txn) LeafHashes(accountID string) (leaves [][]byte, purged map[int64]bool, err error) {
	rows, err := tx.query(`SELECT idx, hash FROM tree_nodes WHERE account_id = ? AND level = 0 ORDER BY idx`, accountID)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var idx int64
		var hash []byte
		if err := rows.Scan(&idx, &hash); err != nil {
			return nil, nil, err
		}
		for int64(len(leaves)) < idx {
			leaves = append(leaves, nil)
		}
		leaves = append(leaves, hash)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	seqs, err := collect(tx, func(row scanner) (seq int64, err error) { return seq, row.Scan(&seq) }, `SELECT seq FROM purged WHERE account_id = ?`, accountID)
	purged = make(map[int64]bool, len(seqs))
	for _, seq := range seqs {
		purged[seq] = true
	}
	return leaves, purged, err
}

// FindAccountsBehind returns the accounts whose tree is smaller than their
// next seq.
func (tx *txn) FindAccountsBehind() ([]string, error) {
	return collect(tx, func(row scanner) (id string, err error) { return id, row.Scan(&id) }, `SELECT id FROM accounts WHERE tree_size < next_seq ORDER BY id`)
}

// InsertCheckpoint stores cp.
func (tx *txn) InsertCheckpoint(cp *audittrail.Checkpoint) error {
	_, err := tx.exec(`INSERT INTO checkpoints (account_id, tree_size, root_hash, note, created_at) VALUES (?, ?, ?, ?, ?)`,
		cp.AccountID, cp.TreeSize, cp.RootHash, cp.Note, ms(cp.CreatedAt))
	return err
}

const checkpointColumns = `account_id, tree_size, root_hash, note, created_at`

func scanCheckpoint(row scanner) (*audittrail.Checkpoint, error) {
	var cp audittrail.Checkpoint
	var createdAt int64
	if err := row.Scan(&cp.AccountID, &cp.TreeSize, &cp.RootHash, &cp.Note, &createdAt); err != nil {
		return nil, err
	}
	cp.CreatedAt = fromMS(createdAt)
	return &cp, nil
}

// LatestCheckpoint returns the newest checkpoint of the account; ENOTFOUND
// if none.
func (tx *txn) LatestCheckpoint(accountID string) (*audittrail.Checkpoint, error) {
	cp, err := scanCheckpoint(tx.queryRow(`SELECT `+checkpointColumns+` FROM checkpoints WHERE account_id = ? ORDER BY id DESC LIMIT 1`, accountID))
	return cp, translate(err, txkit.NoCheckpoint(accountID), "")
}

// FindCheckpoints returns every checkpoint of the account, oldest first.
func (tx *txn) FindCheckpoints(accountID string) ([]*audittrail.Checkpoint, error) {
	return collect(tx, scanCheckpoint, `SELECT `+checkpointColumns+` FROM checkpoints WHERE account_id = ? ORDER BY id`, accountID)
}

// PurgeRecords removes the records dated before cutoff, of every account,
// in batches, keeping their leaves and nodes, and notes each removed seq in
// purged so that verify tells a purge from a deletion.
func (db *DB) PurgeRecords(ctx context.Context, cutoff time.Time) (total int, err error) {
	for {
		var n int
		err := db.write(ctx, func(tx *txn) error {
			if _, err := tx.exec(`INSERT INTO purge_gate (opened) VALUES (1)`); err != nil {
				return err
			}
			res, err := tx.exec(`
				INSERT INTO purged (account_id, seq)
				SELECT account_id, seq FROM records WHERE date < ? LIMIT 5000`, ms(cutoff))
			if err != nil {
				return err
			}
			m, _ := res.RowsAffected()
			n = int(m)
			if n > 0 {
				if _, err := tx.exec(`
					DELETE FROM records WHERE (account_id, seq) IN (
						SELECT p.account_id, p.seq FROM purged p JOIN records r ON r.account_id = p.account_id AND r.seq = p.seq)`); err != nil {
					return err
				}
			}
			_, err = tx.exec(`DELETE FROM purge_gate`)
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n == 0 {
			return total, db.purgeAccess(ctx, cutoff)
		}
	}
}

// purgeAccess removes the access log's entries from before cutoff, in
// batches, through purge_gate.
func (db *DB) purgeAccess(ctx context.Context, cutoff time.Time) error {
	for {
		var n int64
		err := db.write(ctx, func(tx *txn) error {
			if _, err := tx.exec(`INSERT INTO purge_gate (opened) VALUES (1)`); err != nil {
				return err
			}
			res, err := tx.exec(`DELETE FROM access_log WHERE (account_id, at, id) IN (
				SELECT account_id, at, id FROM access_log WHERE at < ? LIMIT 5000)`, ms(cutoff))
			if err != nil {
				return err
			}
			n, _ = res.RowsAffected()
			_, err = tx.exec(`DELETE FROM purge_gate`)
			return err
		})
		if err != nil || n == 0 {
			return err
		}
	}
}
