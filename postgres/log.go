package postgres

import (
	"context"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/internal/txkit"
	"github.com/jackc/pgx/v5"
)

// FindLogHead returns the head of the account's log. Returns ENOTFOUND.
func (tx *txn) FindLogHead(accountID string) (head audittrail.LogHead, err error) {
	var size int64
	var packed []byte
	err = tx.queryRow(`SELECT next_seq, tree_size, tree_hashes FROM accounts WHERE id = $1`, accountID).Scan(&head.NextSeq, &size, &packed)
	if err != nil {
		return head, translate(err, txkit.AccountNotFound(accountID), "")
	}
	head.TreeSize = uint64(size)
	head.TreeHashes, err = audittrail.UnpackHashes(accountID, packed)
	return head, err
}

// SaveLogHead stores the head of the account's log.
func (tx *txn) SaveLogHead(accountID string, head audittrail.LogHead) error {
	_, err := tx.exec(`UPDATE accounts SET next_seq = $1, tree_size = $2, tree_hashes = $3 WHERE id = $4`,
		head.NextSeq, int64(head.TreeSize), audittrail.PackHashes(head.TreeHashes), accountID)
	return err
}

// InsertTreeNodes stores nodes of the account's tree by one COPY. The
// primary key of tree_nodes refuses a leaf stored twice, and so a seq used
// twice.
func (tx *txn) InsertTreeNodes(accountID string, nodes []audittrail.TreeNode) error {
	rows := make([][]any, len(nodes))
	for i, n := range nodes {
		rows[i] = []any{accountID, int16(n.ID.Level), int64(n.ID.Index), n.Hash}
	}
	_, err := tx.q.CopyFrom(tx.ctx, pgx.Identifier{"tree_nodes"}, []string{"account_id", "level", "idx", "hash"}, pgx.CopyFromRows(rows))
	return err
}

// TreeNodes returns the hashes of the given nodes, in order, read by one
// statement. Returns ENOTFOUND when one is not stored.
func (tx *txn) TreeNodes(accountID string, ids []audittrail.NodeID) ([][]byte, error) {
	levels, idxs := make([]int16, len(ids)), make([]int64, len(ids))
	for i, id := range ids {
		levels[i], idxs[i] = int16(id.Level), int64(id.Index)
	}
	rows, err := tx.query(`
		SELECT n.level, n.idx, n.hash
		FROM unnest($2::smallint[], $3::bigint[]) AS q (level, idx)
		JOIN tree_nodes n ON n.account_id = $1 AND n.level = q.level AND n.idx = q.idx`,
		accountID, levels, idxs)
	if err != nil {
		return nil, err
	}
	found := map[audittrail.NodeID][]byte{}
	var level int16
	var idx int64
	var hash []byte
	if _, err := pgx.ForEachRow(rows, []any{&level, &idx, &hash}, func() error {
		found[audittrail.NodeID{Level: uint(level), Index: uint64(idx)}] = hash
		return nil
	}); err != nil {
		return nil, err
	}
	hashes := make([][]byte, len(ids))
	for i, id := range ids {
		if hashes[i] = found[id]; hashes[i] == nil {
			return nil, txkit.NodeNotStored(accountID, id)
		}
	}
	return hashes, nil
}

// LeafHashes returns the stored leaf hashes of the account by seq, and the
// seqs the retention purge removed.
func (tx *txn) LeafHashes(accountID string) (leaves [][]byte, purged map[int64]bool, err error) {
	purged = map[int64]bool{}
	rows, err := tx.query(`SELECT idx, hash FROM tree_nodes WHERE account_id = $1 AND level = 0 ORDER BY idx`, accountID)
	if err != nil {
		return nil, nil, err
	}
	var idx int64
	var hash []byte
	if _, err := pgx.ForEachRow(rows, []any{&idx, &hash}, func() error {
		for int64(len(leaves)) < idx {
			leaves = append(leaves, nil)
		}
		leaves = append(leaves, hash)
		return nil
	}); err != nil {
		return nil, nil, err
	}
	prows, err := tx.query(`SELECT seq FROM purged WHERE account_id = $1`, accountID)
	if err != nil {
		return nil, nil, err
	}
	var seq int64
	_, err = pgx.ForEachRow(prows, []any{&seq}, func() error {
		purged[seq] = true
		return nil
	})
	return leaves, purged, err
}

// FindAccountsBehind returns the accounts whose tree is smaller than their
// next seq.
func (tx *txn) FindAccountsBehind() ([]string, error) {
	return collect(tx, scanID, `SELECT id FROM accounts WHERE tree_size < next_seq ORDER BY id COLLATE "C"`)
}

// InsertCheckpoint stores cp.
func (tx *txn) InsertCheckpoint(cp *audittrail.Checkpoint) error {
	_, err := tx.exec(`INSERT INTO checkpoints (account_id, tree_size, root_hash, note, created_at) VALUES ($1, $2, $3, $4, $5)`,
		cp.AccountID, int64(cp.TreeSize), cp.RootHash, cp.Note, cp.CreatedAt)
	return err
}

const checkpointColumns = `account_id, tree_size, root_hash, note, created_at`

func scanCheckpoint(row pgx.Row) (*audittrail.Checkpoint, error) {
	var cp audittrail.Checkpoint
	var size int64
	if err := row.Scan(&cp.AccountID, &size, &cp.RootHash, &cp.Note, &cp.CreatedAt); err != nil {
		return nil, err
	}
	cp.TreeSize, cp.CreatedAt = uint64(size), utc(cp.CreatedAt)
	return &cp, nil
}

// LatestCheckpoint returns the newest checkpoint of the account; ENOTFOUND
// if none.
func (tx *txn) LatestCheckpoint(accountID string) (*audittrail.Checkpoint, error) {
	cp, err := scanCheckpoint(tx.queryRow(`SELECT `+checkpointColumns+` FROM checkpoints WHERE account_id = $1 ORDER BY id DESC LIMIT 1`, accountID))
	return cp, translate(err, txkit.NoCheckpoint(accountID), "")
}

// FindCheckpoints returns every checkpoint of the account, oldest first.
func (tx *txn) FindCheckpoints(accountID string) ([]*audittrail.Checkpoint, error) {
	return collect(tx, scanCheckpoint, `SELECT `+checkpointColumns+` FROM checkpoints WHERE account_id = $1 ORDER BY id`, accountID)
}

// purgeBatch is the most rows one step of the purge deletes one by one.
const purgeBatch = 10000

// PurgeRecords removes the records dated before cutoff, of every account,
// keeping their leaves and nodes, and notes each removed seq in purged so
// that verify tells a purge from a deletion. It drops the month partitions
// wholly before cutoff and deletes the older rows of the partly-expired
// month and of the default partition, by steps of the database function
// audittrail_purge, each step its own short transaction. Returns how many
// records it removed.
func (db *DB) PurgeRecords(ctx context.Context, cutoff time.Time) (total int, err error) {
	cutoff = audittrail.TruncateTime(cutoff)
	for {
		var removed int64
		var more bool
		err := db.write(ctx, func(tx *txn) error {
			return tx.queryRow(`SELECT removed, more FROM audittrail_purge($1, $2)`, cutoff, purgeBatch).Scan(&removed, &more)
		})
		if err != nil {
			return total, err
		}
		total += int(removed)
		if !more {
			return total, db.purgeAccess(ctx, cutoff)
		} else if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// purgeAccess removes the access log's entries from before cutoff, in
// batches, through audittrail_purge_access.
func (db *DB) purgeAccess(ctx context.Context, cutoff time.Time) error {
	for {
		var n int64
		err := db.write(ctx, func(tx *txn) error {
			return tx.queryRow(`SELECT audittrail_purge_access($1, $2)`, cutoff, purgeBatch).Scan(&n)
		})
		if err != nil || n < int64(purgeBatch) {
			return err
		}
	}
}
