package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/tlog"
)

// AppendRecords stores the records of entries durably, all or nothing, and
// returns them as stored, in entry order. The records given are not changed:
// the store returns copies with AccountID, ID, Seq (the account's next
// positions, without gaps), ReceivedAt (the transaction's clock) set and
// Date cut to milliseconds. An entry whose idempotency key was stored
// before, by this call or an earlier one (on any process sharing the
// backend), answers the records first stored when its fingerprint matches,
// else the whole call fails with EIDEMPOTENCYCONFLICT. Returns ENOTFOUND,
// EAUDITTRAILDISABLED, EBEFOREENABLED, EIDEMPOTENCYCONFLICT.
func (s *Store) AppendRecords(ctx context.Context, accountID string, entries []audittrail.Entry) (rs []*audittrail.Record, err error) {
	// What does not depend on the account's state is made before the
	// transaction, in the caller's goroutine, so that the account's lock (and
	// SQLite's one writer) is held for less time.
	rows, err := newRecordRows(accountID, entries, nil)
	if err != nil {
		return nil, err
	}
	var c audittrail.Commit
	err = s.b.Update(ctx, func(t audittrail.Tx) error {
		acct, head, err := t.LockAccount(accountID)
		if err != nil {
			return err
		}
		if err := audittrail.CheckAppend(acct, entries); err != nil {
			return err
		}
		rs, c, err = appendRecords(t, accountID, head, entries, rows)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.announce(c)
	return rs, nil
}

// newRecordRows returns the rows of the records of entries, in order, with
// their ids, dated *date when date is not nil (the audit of a change).
func newRecordRows(accountID string, entries []audittrail.Entry, date *time.Time) ([][]audittrail.RecordRow, error) {
	rows := make([][]audittrail.RecordRow, len(entries))
	for i, e := range entries {
		rows[i] = make([]audittrail.RecordRow, len(e.Records))
		for j, in := range e.Records {
			r := *in
			r.AccountID, r.ID, r.Date = accountID, audittrail.NewRecordID(), audittrail.TruncateTime(r.Date)
			if date != nil {
				r.Date = *date
			}
			originator, err := json.Marshal(r.Originator)
			if err != nil {
				return nil, err
			}
			rows[i][j] = audittrail.RecordRow{Record: &r, Originator: string(originator), SearchText: audittrail.SearchText(&r)}
		}
	}
	return rows, nil
}

// stored is what an idempotency key stands for in an append: the key as
// stored and, once read or written, its records.
type stored struct {
	key     audittrail.IdempotencyKey
	records []*audittrail.Record // nil until read
}

// appendRecords appends the rows of entries to the account, whose log head
// the caller read while locking the account: it is the one place that
// assigns seqs and extends the account's tree. It applies the idempotency
// rule and returns the records as stored and the commit it makes.
func appendRecords(t audittrail.Tx, accountID string, head audittrail.LogHead, entries []audittrail.Entry, rows [][]audittrail.RecordRow) ([]*audittrail.Record, audittrail.Commit, error) {
	commit := audittrail.Commit{AccountID: accountID, FirstSeq: head.NextSeq, EndSeq: head.NextSeq}
	tree, err := tlog.NewTree(head.TreeSize, head.TreeHashes)
	if err != nil {
		return nil, commit, fmt.Errorf("account %s: tree state: %w", accountID, err)
	}
	keys, err := findKeys(t, accountID, entries)
	if err != nil {
		return nil, commit, err
	}

	now, next := t.Now(), head.NextSeq
	out := make([]*audittrail.Record, 0, len(rows))
	var inserts []audittrail.RecordRow
	var nodes []audittrail.TreeNode
	var newKeys []audittrail.IdempotencyKey
	for i, e := range entries {
		if prev, ok := keys[e.IdempotencyKey]; ok && e.IdempotencyKey != "" {
			if prev.key.Fingerprint != e.Fingerprint {
				return nil, commit, idempotencyConflict(i, e)
			}
			if prev.records == nil {
				prev.records = []*audittrail.Record{}
				err := t.FindRecordsBySeq(accountID, prev.key.FirstSeq, prev.key.FirstSeq+prev.key.Count, int(prev.key.Count), func(r *audittrail.Record) error {
					prev.records = append(prev.records, r)
					return nil
				})
				if err != nil {
					return nil, commit, err
				}
			}
			for _, r := range prev.records {
				c := *r
				out = append(out, &c)
			}
			continue
		}

		first := next
		var these []*audittrail.Record
		for _, row := range rows[i] {
			r := *row.Record
			r.Seq, r.ReceivedAt = next, now
			if merkleLog {
				if uint64(r.Seq) != tree.Size() {
					return nil, commit, fmt.Errorf("account %s: record seq %d does not follow the tree of size %d", accountID, r.Seq, tree.Size())
				}
				if err := tree.Append(tlog.LeafHash(&r), func(id tlog.NodeID, hash []byte) {
					nodes = append(nodes, audittrail.TreeNode{ID: audittrail.NodeID(id), Hash: hash})
				}); err != nil {
					return nil, commit, err
				}
			}
			inserts = append(inserts, audittrail.RecordRow{Record: &r, Originator: row.Originator, SearchText: row.SearchText})
			c := r
			these = append(these, &c)
			out = append(out, &r)
			next++
		}
		if e.IdempotencyKey != "" {
			k := audittrail.IdempotencyKey{Key: e.IdempotencyKey, Fingerprint: e.Fingerprint, FirstSeq: first, Count: next - first}
			keys[e.IdempotencyKey] = &stored{key: k, records: these}
			newKeys = append(newKeys, k)
		}
	}

	if len(inserts) > 0 {
		if err := t.InsertRecords(inserts); err != nil {
			return nil, commit, err
		}
	}
	if len(nodes) > 0 {
		if err := t.InsertTreeNodes(accountID, nodes); err != nil {
			return nil, commit, err
		}
	}
	if len(newKeys) > 0 {
		if err := t.InsertIdempotencyKeys(accountID, newKeys); err != nil {
			return nil, commit, err
		}
	}
	if next != head.NextSeq {
		if err := t.SaveLogHead(accountID, audittrail.LogHead{NextSeq: next, TreeSize: tree.Size(), TreeHashes: tree.Hashes()}); err != nil {
			return nil, commit, err
		}
		commit.EndSeq = next
		if a, ok := t.(audittrail.CommitAnnouncer); ok {
			if err := a.AnnounceCommit(commit); err != nil {
				return nil, commit, err
			}
		}
	}
	return out, commit, nil
}

// findKeys returns what the idempotency keys of entries stand for, of those
// stored before, in one look-up. The caller holds the account's lock, so no
// other transaction stores a key of the account meanwhile.
func findKeys(t audittrail.Tx, accountID string, entries []audittrail.Entry) (map[string]*stored, error) {
	keys := map[string]*stored{}
	var wanted []string
	for _, e := range entries {
		if e.IdempotencyKey != "" {
			wanted = append(wanted, e.IdempotencyKey)
		}
	}
	if len(wanted) == 0 {
		return keys, nil
	}
	found, err := t.FindIdempotencyKeys(accountID, wanted)
	if err != nil {
		return nil, err
	}
	for key, k := range found {
		keys[key] = &stored{key: k}
	}
	return keys, nil
}

// idempotencyConflict is the error of entry i, whose key was stored with
// other content.
func idempotencyConflict(i int, e audittrail.Entry) error {
	_, key, _ := strings.Cut(e.IdempotencyKey, ":") // the client's id, without the route's namespace
	msg := fmt.Sprintf("id %q was already used for other content; a retry must send the same content, a new change needs a new id", key)
	return &audittrail.Error{
		Code:    audittrail.EIDEMPOTENCYCONFLICT,
		Message: fmt.Sprintf("item %d: %s; nothing was stored", i, msg),
		Details: []audittrail.ErrorDetail{{Index: i, Field: "id", Message: msg, Code: audittrail.EIDEMPOTENCYCONFLICT}},
	}
}

// CatchUp brings the tree of every account level with its records: the
// records written before the log existed, or by a build with the log
// switched off. Each account catches up in its own transaction. Call it
// when opening the storage for writing, never for reading only: a check of
// the storage (audittrail verify) must see it as it is.
func (s *Store) CatchUp(ctx context.Context) error {
	if !merkleLog {
		return nil
	}
	var behind []string
	err := s.b.View(ctx, func(t audittrail.Tx) (err error) {
		behind, err = t.FindAccountsBehind()
		return err
	})
	if err != nil {
		return err
	}
	for _, id := range behind {
		if err := s.b.Update(ctx, func(t audittrail.Tx) error { return catchUp(t, id) }); err != nil {
			return fmt.Errorf("log of account %s: %w", id, err)
		}
	}
	return nil
}

// catchUp appends to the account's tree the leaves of its records from the
// tree's size to its next seq.
func catchUp(t audittrail.Tx, accountID string) error {
	_, head, err := t.LockAccount(accountID)
	if err != nil || head.TreeSize >= uint64(head.NextSeq) {
		return err
	}
	tree, err := tlog.NewTree(head.TreeSize, head.TreeHashes)
	if err != nil {
		return err
	}
	var nodes []audittrail.TreeNode
	err = t.FindRecordsBySeq(accountID, int64(head.TreeSize), head.NextSeq, int(head.NextSeq), func(r *audittrail.Record) error {
		if uint64(r.Seq) != tree.Size() {
			return fmt.Errorf("record seq %d does not follow the tree of size %d", r.Seq, tree.Size())
		}
		return tree.Append(tlog.LeafHash(r), func(id tlog.NodeID, hash []byte) {
			nodes = append(nodes, audittrail.TreeNode{ID: audittrail.NodeID(id), Hash: hash})
		})
	})
	if err != nil {
		return err
	}
	if err := t.InsertTreeNodes(accountID, nodes); err != nil {
		return err
	}
	head.TreeSize, head.TreeHashes = tree.Size(), tree.Hashes()
	return t.SaveLogHead(accountID, head)
}
