package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/tlog"
	"github.com/jackc/pgx/v5"
)

// accountLog is an account's Merkle tree inside an append: it takes the
// leaves of the records the transaction inserts, collects the nodes they
// complete, and writes them all at once.
type accountLog struct {
	accountID string
	tree      *tlog.Tree
	nodes     [][]any // rows of tree_nodes to insert
}

func openLog(accountID string, size int64, packed []byte) (*accountLog, error) {
	if len(packed)%32 != 0 || size < 0 {
		return nil, fmt.Errorf("postgres: account %s: tree state is corrupt", accountID)
	}
	hashes := make([][]byte, 0, len(packed)/32)
	for i := 0; i < len(packed); i += 32 {
		hashes = append(hashes, packed[i:i+32])
	}
	t, err := tlog.NewTree(uint64(size), hashes)
	if err != nil {
		return nil, err
	}
	return &accountLog{accountID: accountID, tree: t}, nil
}

// append adds the leaf of r, which must be the record of seq = tree size.
func (l *accountLog) append(r *audittrail.Record) error {
	if uint64(r.Seq) != l.tree.Size() {
		return fmt.Errorf("postgres: account %s: record seq %d does not follow the tree of size %d", l.accountID, r.Seq, l.tree.Size())
	}
	return l.tree.Append(tlog.LeafHash(r), func(id tlog.NodeID, hash []byte) {
		l.nodes = append(l.nodes, []any{l.accountID, int16(id.Level), int64(id.Index), hash})
	})
}

// save inserts the nodes that the appended leaves completed. The primary
// key of tree_nodes refuses a leaf stored twice, and so a seq used twice.
func (l *accountLog) save(tx *txn) error {
	if len(l.nodes) == 0 {
		return nil
	}
	_, err := tx.q.CopyFrom(tx.ctx, pgx.Identifier{"tree_nodes"}, []string{"account_id", "level", "idx", "hash"}, pgx.CopyFromRows(l.nodes))
	l.nodes = nil
	return err
}

// packed returns the tree's compact range as stored beside the account.
func (l *accountLog) packed() []byte {
	packed := []byte{}
	for _, h := range l.tree.Hashes() {
		packed = append(packed, h...)
	}
	return packed
}

// TreeHead returns the size and compact range of the account's tree.
func (db *DB) TreeHead(ctx context.Context, accountID string) (size uint64, hashes [][]byte, err error) {
	err = db.read(ctx, func(tx *txn) error {
		var n int64
		var packed []byte
		err := tx.queryRow(`SELECT tree_size, tree_hashes FROM accounts WHERE id = $1`, accountID).Scan(&n, &packed)
		if err != nil {
			return translate(err, accountNotFound(accountID), "")
		}
		size = uint64(n)
		for i := 0; i+32 <= len(packed); i += 32 {
			hashes = append(hashes, packed[i:i+32])
		}
		return nil
	})
	return size, hashes, err
}

// TreeNodes returns the hashes of the given nodes, in order, read by one
// statement. Returns ENOTFOUND when one is not stored.
func (db *DB) TreeNodes(ctx context.Context, accountID string, ids []audittrail.NodeID) (hashes [][]byte, err error) {
	levels, idxs := make([]int16, len(ids)), make([]int64, len(ids))
	for i, id := range ids {
		levels[i], idxs[i] = int16(id.Level), int64(id.Index)
	}
	err = db.read(ctx, func(tx *txn) error {
		rows, err := tx.query(`
			SELECT n.level, n.idx, n.hash
			FROM unnest($2::smallint[], $3::bigint[]) AS q (level, idx)
			JOIN tree_nodes n ON n.account_id = $1 AND n.level = q.level AND n.idx = q.idx`,
			accountID, levels, idxs)
		if err != nil {
			return err
		}
		found := map[audittrail.NodeID][]byte{}
		var level int16
		var idx int64
		var hash []byte
		if _, err := pgx.ForEachRow(rows, []any{&level, &idx, &hash}, func() error {
			found[audittrail.NodeID{Level: uint(level), Index: uint64(idx)}] = hash
			return nil
		}); err != nil {
			return err
		}
		hashes = make([][]byte, len(ids))
		for i, id := range ids {
			if hashes[i] = found[id]; hashes[i] == nil {
				return audittrail.Errorf(audittrail.ENOTFOUND, "node %d/%d of the log of account %s is not stored", id.Level, id.Index, accountID)
			}
		}
		return nil
	})
	return hashes, err
}

// LeafHashes returns the stored leaf hashes of the account by seq, and the
// seqs the retention purge removed.
func (db *DB) LeafHashes(ctx context.Context, accountID string) (leaves [][]byte, purged map[int64]bool, err error) {
	purged = map[int64]bool{}
	err = db.read(ctx, func(tx *txn) error {
		rows, err := tx.query(`SELECT idx, hash FROM tree_nodes WHERE account_id = $1 AND level = 0 ORDER BY idx`, accountID)
		if err != nil {
			return err
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
			return err
		}
		prows, err := tx.query(`SELECT seq FROM purged WHERE account_id = $1`, accountID)
		if err != nil {
			return err
		}
		var seq int64
		_, err = pgx.ForEachRow(prows, []any{&seq}, func() error {
			purged[seq] = true
			return nil
		})
		return err
	})
	return leaves, purged, err
}

// IterateRecordsBySeq calls fn with every stored record of the account in
// seq order, a page at a time.
func (db *DB) IterateRecordsBySeq(ctx context.Context, accountID string, fn func(*audittrail.Record) error) error {
	after := int64(-1)
	for {
		page := make([]*audittrail.Record, 0, iteratePage)
		err := db.read(ctx, func(tx *txn) error {
			rows, err := tx.query(`SELECT `+recordColumns+` FROM records WHERE account_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
				accountID, after, iteratePage)
			if err != nil {
				return err
			}
			page, err = pgx.AppendRows(page, rows, func(row pgx.CollectableRow) (*audittrail.Record, error) { return scanRecord(row) })
			return err
		})
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < iteratePage {
			return nil
		}
		after = page[len(page)-1].Seq
	}
}

// AddCheckpoint stores a signed checkpoint, setting its created time to the
// store's clock. The checkpoints of an account only grow: holding the
// account's lock, it refuses with ECONFLICT a checkpoint of a smaller tree
// than the newest stored, which another replica signed meanwhile. A
// checkpoint of the same size is stored (a quiet tree is signed again once
// its newest checkpoint is old). Returns ENOTFOUND, ECONFLICT.
func (db *DB) AddCheckpoint(ctx context.Context, cp *audittrail.Checkpoint) error {
	return db.write(ctx, func(tx *txn) error {
		if _, err := lockAccount(tx, cp.AccountID); err != nil {
			return err
		}
		var newest int64
		err := tx.queryRow(`SELECT tree_size FROM checkpoints WHERE account_id = $1 ORDER BY id DESC LIMIT 1`, cp.AccountID).Scan(&newest)
		if err == nil && uint64(newest) > cp.TreeSize {
			return audittrail.Errorf(audittrail.ECONFLICT, "a checkpoint of a larger tree (size %d) is already stored for account %s; checkpoints only grow", newest, cp.AccountID)
		} else if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		cp.CreatedAt = tx.now
		_, err = tx.exec(`INSERT INTO checkpoints (account_id, tree_size, root_hash, note, created_at) VALUES ($1, $2, $3, $4, $5)`,
			cp.AccountID, int64(cp.TreeSize), cp.RootHash, cp.Note, cp.CreatedAt)
		return err
	})
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
func (db *DB) LatestCheckpoint(ctx context.Context, accountID string) (cp *audittrail.Checkpoint, err error) {
	err = db.read(ctx, func(tx *txn) error {
		cp, err = scanCheckpoint(tx.queryRow(`SELECT `+checkpointColumns+` FROM checkpoints WHERE account_id = $1 ORDER BY id DESC LIMIT 1`, accountID))
		return translate(err, fmt.Sprintf("account %s has no checkpoint yet", accountID), "")
	})
	return cp, err
}

// FindCheckpoints returns every checkpoint of the account, oldest first.
func (db *DB) FindCheckpoints(ctx context.Context, accountID string) (cps []*audittrail.Checkpoint, err error) {
	err = db.read(ctx, func(tx *txn) error {
		rows, err := tx.query(`SELECT `+checkpointColumns+` FROM checkpoints WHERE account_id = $1 ORDER BY id`, accountID)
		if err != nil {
			return err
		}
		cps, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*audittrail.Checkpoint, error) { return scanCheckpoint(row) })
		return err
	})
	return cps, err
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
			return total, nil
		} else if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}
