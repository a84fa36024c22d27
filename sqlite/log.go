package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/tlog"
)

// accountLog is an account's Merkle tree inside a write transaction: it
// appends the leaves of the records the transaction inserts, with the nodes
// they complete, and saves the tree's state beside the account.
type accountLog struct {
	tx        *txn
	accountID string
	tree      *tlog.Tree
	start     uint64
}

func openLog(tx *txn, accountID string, size uint64, packed []byte) (*accountLog, error) {
	if len(packed)%32 != 0 {
		return nil, fmt.Errorf("sqlite: account %s: tree state is corrupt", accountID)
	}
	hashes := make([][]byte, 0, len(packed)/32)
	for i := 0; i < len(packed); i += 32 {
		hashes = append(hashes, packed[i:i+32])
	}
	t, err := tlog.NewTree(size, hashes)
	if err != nil {
		return nil, err
	}
	return &accountLog{tx: tx, accountID: accountID, tree: t, start: size}, nil
}

// append adds the leaf of r, which must be the record of seq = tree size.
func (l *accountLog) append(r *audittrail.Record) error {
	if !merkleLog {
		return nil
	}
	if uint64(r.Seq) != l.tree.Size() {
		return fmt.Errorf("sqlite: account %s: record seq %d does not follow the tree of size %d", l.accountID, r.Seq, l.tree.Size())
	}
	var err error
	l.tree.Append(tlog.LeafHash(r), func(id tlog.NodeID, hash []byte) {
		if err == nil {
			_, err = l.tx.exec(`INSERT INTO tree_nodes (account_id, level, idx, hash) VALUES (?, ?, ?, ?)`, l.accountID, id.Level, id.Index, hash)
		}
	})
	return err
}

// save stores the tree's size and compact range, if it grew.
func (l *accountLog) save() error {
	if l.tree.Size() == l.start {
		return nil
	}
	var packed []byte
	for _, h := range l.tree.Hashes() {
		packed = append(packed, h...)
	}
	_, err := l.tx.exec(`UPDATE accounts SET tree_size = ?, tree_hashes = ? WHERE id = ?`, l.tree.Size(), packed, l.accountID)
	return err
}

// catchUpLogs brings the tree of every account level with its records: the
// records written before the log existed, or with the log switched off.
func (db *DB) catchUpLogs(ctx context.Context) error {
	if !merkleLog {
		return nil
	}
	return db.write(ctx, func(tx *txn) error {
		rows, err := tx.query(`SELECT id, tree_size, tree_hashes FROM accounts WHERE tree_size < next_seq`)
		if err != nil {
			return err
		}
		type behind struct {
			id     string
			size   uint64
			hashes []byte
		}
		var accounts []behind
		for rows.Next() {
			var b behind
			if err := rows.Scan(&b.id, &b.size, &b.hashes); err != nil {
				rows.Close()
				return err
			}
			accounts = append(accounts, b)
		}
		rows.Close()
		for _, b := range accounts {
			log, err := openLog(tx, b.id, b.size, b.hashes)
			if err != nil {
				return err
			}
			var recs []*audittrail.Record
			rows, err := tx.query(`SELECT `+recordColumns+` FROM records WHERE account_id = ? AND seq >= ? ORDER BY seq`, b.id, b.size)
			if err != nil {
				return err
			}
			for rows.Next() {
				r, err := scanRecord(rows)
				if err != nil {
					rows.Close()
					return err
				}
				recs = append(recs, r)
			}
			rows.Close()
			for _, r := range recs {
				if err := log.append(r); err != nil {
					return err
				}
			}
			if err := log.save(); err != nil {
				return err
			}
		}
		return nil
	})
}

// TreeHead returns the size and compact range of the account's tree.
func (db *DB) TreeHead(ctx context.Context, accountID string) (size uint64, hashes [][]byte, err error) {
	err = db.read(ctx, func(tx *txn) error {
		var packed []byte
		err := tx.queryRow(`SELECT tree_size, tree_hashes FROM accounts WHERE id = ?`, accountID).Scan(&size, &packed)
		if err != nil {
			return translate(err, fmt.Sprintf("account %s not found", accountID), "")
		}
		for i := 0; i+32 <= len(packed); i += 32 {
			hashes = append(hashes, packed[i:i+32])
		}
		return nil
	})
	return size, hashes, err
}

// TreeNodes returns the hashes of the given nodes, in order. Returns
// ENOTFOUND when one is not stored.
func (db *DB) TreeNodes(ctx context.Context, accountID string, ids []audittrail.NodeID) (hashes [][]byte, err error) {
	err = db.read(ctx, func(tx *txn) error {
		hashes = make([][]byte, len(ids))
		for i, id := range ids {
			err := tx.queryRow(`SELECT hash FROM tree_nodes WHERE account_id = ? AND level = ? AND idx = ?`, accountID, id.Level, id.Index).Scan(&hashes[i])
			if err != nil {
				return translate(err, fmt.Sprintf("node %d/%d of the log of account %s is not stored", id.Level, id.Index, accountID), "")
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
		rows, err := tx.query(`SELECT idx, hash FROM tree_nodes WHERE account_id = ? AND level = 0 ORDER BY idx`, accountID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var idx int64
			var hash []byte
			if err := rows.Scan(&idx, &hash); err != nil {
				return err
			}
			for int64(len(leaves)) < idx {
				leaves = append(leaves, nil)
			}
			leaves = append(leaves, hash)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		prows, err := tx.query(`SELECT seq FROM purged WHERE account_id = ?`, accountID)
		if err != nil {
			return err
		}
		defer prows.Close()
		for prows.Next() {
			var seq int64
			if err := prows.Scan(&seq); err != nil {
				return err
			}
			purged[seq] = true
		}
		return prows.Err()
	})
	return leaves, purged, err
}

// IterateRecordsBySeq calls fn with every stored record of the account in
// seq order, a page at a time.
func (db *DB) IterateRecordsBySeq(ctx context.Context, accountID string, fn func(*audittrail.Record) error) error {
	after := int64(-1)
	for {
		page := make([]*audittrail.Record, 0, 1024)
		err := db.read(ctx, func(tx *txn) error {
			rows, err := tx.query(`SELECT `+recordColumns+` FROM records WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT 1024`, accountID, after)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				r, err := scanRecord(rows)
				if err != nil {
					return err
				}
				page = append(page, r)
			}
			return rows.Err()
		})
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < 1024 {
			return nil
		}
		after = page[len(page)-1].Seq
	}
}

// AddCheckpoint stores a signed checkpoint, setting its created time to the
// store's clock. The checkpoints of an account only grow: it refuses with
// ECONFLICT a checkpoint of a smaller tree than the newest stored (which a
// concurrent signer stored first). A checkpoint of the same size is stored:
// a quiet tree is signed again once its newest checkpoint is old. Returns
// ECONFLICT.
func (db *DB) AddCheckpoint(ctx context.Context, cp *audittrail.Checkpoint) error {
	return db.write(ctx, func(tx *txn) error {
		var newest sql.NullInt64
		if err := tx.queryRow(`SELECT tree_size FROM checkpoints WHERE account_id = ? ORDER BY id DESC LIMIT 1`, cp.AccountID).Scan(&newest); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		} else if newest.Valid && uint64(newest.Int64) > cp.TreeSize {
			return audittrail.Errorf(audittrail.ECONFLICT, "a checkpoint of a larger tree (size %d) is already stored for account %s; checkpoints only grow", newest.Int64, cp.AccountID)
		}
		cp.CreatedAt = tx.now
		_, err := tx.exec(`INSERT INTO checkpoints (account_id, tree_size, root_hash, note, created_at) VALUES (?, ?, ?, ?, ?)`,
			cp.AccountID, cp.TreeSize, cp.RootHash, cp.Note, ms(cp.CreatedAt))
		return err
	})
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
func (db *DB) LatestCheckpoint(ctx context.Context, accountID string) (cp *audittrail.Checkpoint, err error) {
	err = db.read(ctx, func(tx *txn) error {
		cp, err = scanCheckpoint(tx.queryRow(`SELECT `+checkpointColumns+` FROM checkpoints WHERE account_id = ? ORDER BY id DESC LIMIT 1`, accountID))
		return translate(err, fmt.Sprintf("account %s has no checkpoint yet", accountID), "")
	})
	return cp, err
}

// FindCheckpoints returns every checkpoint of the account, oldest first.
func (db *DB) FindCheckpoints(ctx context.Context, accountID string) (cps []*audittrail.Checkpoint, err error) {
	err = db.read(ctx, func(tx *txn) error {
		rows, err := tx.query(`SELECT `+checkpointColumns+` FROM checkpoints WHERE account_id = ? ORDER BY id`, accountID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			cp, err := scanCheckpoint(rows)
			if err != nil {
				return err
			}
			cps = append(cps, cp)
		}
		return rows.Err()
	})
	return cps, err
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
			return total, nil
		}
	}
}
