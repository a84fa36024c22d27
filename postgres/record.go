package postgres

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/jackc/pgx/v5"
)

// iteratePage is how many records IterateRecords and IterateRecordsBySeq
// read per query: a page holds at most 256 × 128 KiB of values.
const iteratePage = 256

// AppendRecords stores the records of entries durably, all or nothing, and
// returns them as stored, in entry order. The records given are not changed:
// the store returns copies with AccountID, ID, Seq (the account's next
// positions, without gaps), ReceivedAt (the store's clock) set and Date cut
// to milliseconds. An entry whose idempotency key was stored before, by this
// call or an earlier one on any replica, answers the records first stored
// when its fingerprint matches, else the whole call fails with
// EIDEMPOTENCYCONFLICT. Returns ENOTFOUND, EAUDITTRAILDISABLED,
// EBEFOREENABLED, EIDEMPOTENCYCONFLICT.
func (db *DB) AppendRecords(ctx context.Context, accountID string, entries []audittrail.Entry) (rs []*audittrail.Record, err error) {
	// What does not depend on the account's state is made before the
	// transaction, so that the account's lock is held for less time.
	rows, err := newRecordRows(accountID, entries)
	if err != nil {
		return nil, err
	}
	err = db.write(ctx, func(tx *txn) error {
		rs, err = appendRecords(tx, accountID, entries, rows, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return rs, nil
}

// FindRecords returns at most f.Limit records matching f (DefaultLimit when
// f.Limit <= 0), newest first by (date, seq), starting after f.After.
func (db *DB) FindRecords(ctx context.Context, f audittrail.RecordFilter) (rs []*audittrail.Record, err error) {
	if f.Limit <= 0 {
		f.Limit = audittrail.DefaultLimit
	}
	rs = []*audittrail.Record{}
	err = db.read(ctx, func(tx *txn) error {
		return findRecords(tx, f, func(r *audittrail.Record) error {
			rs = append(rs, r)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return rs, nil
}

// CountRecords counts the records matching f (Limit and After ignored).
func (db *DB) CountRecords(ctx context.Context, f audittrail.RecordFilter) (n int, err error) {
	f.After = nil
	where, args := recordWhere(f)
	err = db.read(ctx, func(tx *txn) error {
		return tx.queryRow(`SELECT count(*) FROM records WHERE `+where, args...).Scan(&n)
	})
	return n, err
}

// FindRecord returns ENOTFOUND.
func (db *DB) FindRecord(ctx context.Context, accountID, id string) (r *audittrail.Record, err error) {
	err = db.read(ctx, func(tx *txn) error {
		r, err = scanRecord(tx.queryRow(`SELECT `+recordColumns+` FROM records WHERE account_id = $1 AND id = $2`, accountID, id))
		return translate(err, fmt.Sprintf("record %s not found", id), "")
	})
	return r, err
}

// IterateRecords calls fn with every record matching f, newest first by
// (date, seq), starting after f.After; f.Limit is ignored. It reads a page
// of records at a time, each by its own statement, and calls fn once the
// page is read: memory stays bounded by a page, and a slow fn (an export to
// a slow client) holds no connection. Like paging with a cursor, it never
// repeats or skips a record that was there when it started, even while new
// records arrive. It stops at, and returns, the first error of fn.
func (db *DB) IterateRecords(ctx context.Context, f audittrail.RecordFilter, fn func(*audittrail.Record) error) error {
	f.Limit = iteratePage
	page := make([]*audittrail.Record, 0, iteratePage)
	for {
		page = page[:0]
		err := db.read(ctx, func(tx *txn) error {
			return findRecords(tx, f, func(r *audittrail.Record) error {
				page = append(page, r)
				return nil
			})
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
		f.After = audittrail.CursorOf(page[len(page)-1])
	}
}

// recordWhere returns the WHERE clause that selects the records of f, and
// its arguments: the one place that turns a filter into SQL, for listing,
// counting and iterating alike. Its first condition is always the account.
func recordWhere(f audittrail.RecordFilter) (string, []any) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	// in matches one value with =, so that the index on (account_id,
	// column, date, seq) serves the order; several with = ANY.
	in := func(column string, values []string) string {
		if len(values) == 1 {
			return column + " = " + arg(values[0])
		}
		return column + " = ANY(" + arg(values) + ")"
	}

	where := []string{"account_id = " + arg(f.AccountID)}
	if f.From != nil {
		where = append(where, "date >= "+arg(audittrail.TruncateTime(*f.From)))
	}
	if f.To != nil {
		where = append(where, "date <= "+arg(audittrail.TruncateTime(*f.To)))
	}
	if len(f.ObjectTypes) > 0 {
		where = append(where, in("object_type", f.ObjectTypes))
	}
	if len(f.ActionTypes) > 0 {
		where = append(where, in("action_type", f.ActionTypes))
	}
	if f.Element != "" {
		where = append(where, "element = "+arg(f.Element))
	}
	if f.ObjectName != "" {
		where = append(where, "object_name = "+arg(f.ObjectName))
	}
	if f.ObjectID != "" {
		where = append(where, "object_id = "+arg(f.ObjectID))
	}
	if f.Originator != "" {
		o := arg(f.Originator)
		where = append(where, "(originator_id = "+o+" OR originator_name = "+o+")")
	}
	if f.Query != "" {
		// A substring of the lowercased search text, taken literally:
		// strpos, unlike LIKE, has no wildcards to escape.
		where = append(where, "strpos(search_text, "+arg(audittrail.SearchFold(f.Query))+") > 0")
	}
	if f.After != nil {
		// The keyset: the records after the cursor in the newest-first
		// order, as a row comparison that the index on (account_id, date,
		// seq) bounds. The leading "date <= ?" is implied by it; it is
		// there so that the months after the cursor are pruned.
		d, s := arg(audittrail.TruncateTime(f.After.Date)), arg(f.After.Seq)
		where = append(where, "date <= "+d+" AND (date, seq) < ("+d+", "+s+")")
	}
	return strings.Join(where, " AND "), args
}

// recordQuery returns the query of the page of records that f selects.
func recordQuery(f audittrail.RecordFilter) (string, []any) {
	where, args := recordWhere(f)
	args = append(args, f.Limit)
	return `SELECT ` + recordColumns + ` FROM records WHERE ` + where +
		` ORDER BY date DESC, seq DESC LIMIT $` + strconv.Itoa(len(args)), args
}

// findRecords calls fn with each record of the page that f selects.
func findRecords(tx *txn, f audittrail.RecordFilter, fn func(*audittrail.Record) error) error {
	query, args := recordQuery(f)
	rows, err := tx.query(query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

const recordColumns = `account_id, seq, id, change_id, object_type, object_id, object_name, action_type, element,
	old_value, new_value, date, originator, automatic, received_at, source`

func scanRecord(row pgx.Row) (*audittrail.Record, error) {
	var r audittrail.Record
	if err := row.Scan(&r.AccountID, &r.Seq, &r.ID, &r.ChangeID, &r.ObjectType, &r.ObjectID, &r.ObjectName, &r.ActionType, &r.Element,
		&r.OldValue, &r.NewValue, &r.Date, &r.Originator, &r.Automatic, &r.ReceivedAt, &r.Source); err != nil {
		return nil, err
	}
	r.Date, r.ReceivedAt = utc(r.Date), utc(r.ReceivedAt)
	return &r, nil
}

// recordRow is a record about to be inserted, with the columns derived
// from it.
type recordRow struct {
	r          *audittrail.Record // a copy of the entry's record
	originator string             // JSON
	searchText string
}

// newRecordRows returns the rows of the records of entries, in order, with
// their ids.
func newRecordRows(accountID string, entries []audittrail.Entry) ([][]recordRow, error) {
	rows := make([][]recordRow, len(entries))
	for i, e := range entries {
		rows[i] = make([]recordRow, len(e.Records))
		for j, in := range e.Records {
			r := *in
			r.AccountID, r.ID, r.Date = accountID, newRecordID(), audittrail.TruncateTime(r.Date)
			originator, err := json.Marshal(r.Originator)
			if err != nil {
				return nil, err
			}
			rows[i][j] = recordRow{r: &r, originator: string(originator), searchText: audittrail.SearchText(&r)}
		}
	}
	return rows, nil
}

// newRecordID returns a new record id: like audittrail.NewID("rec_"), 15
// bytes in base32, but its first 6 bytes are the time in microseconds (the
// low 48 bits) and the other 9 random. Ids made in order sort in about that
// order, so that each insert lands near the end of the index on
// (account_id, id) rather than on a random page of it.
func newRecordID() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMicro())<<16)
	rand.Read(b[6:])
	return "rec_" + strings.ToLower(base32.StdEncoding.EncodeToString(b[:15]))
}

// appendAudit appends, in the transaction of a change made through the
// service, the records the service writes about it (SPEC §4), dated by the
// store's clock. acct is the account as it decides whether the trail is on:
// nothing is written while it is off.
func appendAudit(tx *txn, acct *audittrail.Account, entries []audittrail.Entry) error {
	if len(entries) == 0 || !acct.AuditTrailEnabled {
		return nil
	}
	rows, err := newRecordRows(acct.ID, entries)
	if err != nil {
		return err
	}
	for _, rs := range rows {
		for _, row := range rs {
			row.r.Date = tx.now
		}
	}
	_, err = appendRecords(tx, acct.ID, entries, rows, false)
	return err
}

// idempotent is what an idempotency key stands for: the fingerprint of the
// content first sent with it, and the records it stored.
type idempotent struct {
	fingerprint string
	first       int64
	count       int64
	records     []*audittrail.Record // nil until read
}

// appendRecords appends the rows of entries to the account, applying
// audittrail.CheckAppend when check is true. It is the one place that
// assigns seqs and extends the account's tree: it locks the account's row
// first, so that the appends of an account, from any replica, run one
// after the other, each reading the seq and tree that the one before
// committed.
func appendRecords(tx *txn, accountID string, entries []audittrail.Entry, rows [][]recordRow, check bool) ([]*audittrail.Record, error) {
	var next, treeSize int64
	var treeHashes []byte
	acct, err := scanAccount(tx.queryRow(`SELECT `+accountColumns+`, next_seq, tree_size, tree_hashes FROM accounts WHERE id = $1 FOR NO KEY UPDATE`,
		accountID), &next, &treeSize, &treeHashes)
	if err != nil {
		return nil, translate(err, accountNotFound(accountID), "")
	}
	if check {
		if err := audittrail.CheckAppend(acct, entries); err != nil {
			return nil, err
		}
	}
	log, err := openLog(accountID, treeSize, treeHashes)
	if err != nil {
		return nil, err
	}
	keys, err := findIdempotencyKeys(tx, accountID, entries)
	if err != nil {
		return nil, err
	}

	start := next
	out := []*audittrail.Record{}
	var recordRows, keyRows [][]any
	for i, e := range entries {
		if prev, ok := keys[e.IdempotencyKey]; ok && e.IdempotencyKey != "" {
			if prev.fingerprint != e.Fingerprint {
				return nil, idempotencyConflict(i, e)
			}
			if prev.records == nil {
				if prev.records, err = recordsBySeq(tx, accountID, prev.first, prev.first+prev.count); err != nil {
					return nil, err
				}
			}
			for _, r := range prev.records {
				c := *r
				out = append(out, &c)
			}
			continue
		}

		first := next
		stored := []*audittrail.Record{}
		for _, row := range rows[i] {
			r := *row.r
			r.Seq, r.ReceivedAt = next, tx.now
			recordRows = append(recordRows, []any{r.AccountID, r.Seq, r.ID, r.ChangeID, r.ObjectType, r.ObjectID, r.ObjectName, r.ActionType,
				r.Element, r.OldValue, r.NewValue, r.Date, r.Originator.ID, r.Originator.Name, row.originator, r.Automatic, r.ReceivedAt,
				r.Source, row.searchText})
			if err := log.append(&r); err != nil {
				return nil, err
			}
			c := r
			stored = append(stored, &c)
			out = append(out, &r)
			next++
		}
		if e.IdempotencyKey != "" {
			keys[e.IdempotencyKey] = &idempotent{fingerprint: e.Fingerprint, first: first, count: next - first, records: stored}
			keyRows = append(keyRows, []any{accountID, e.IdempotencyKey, e.Fingerprint, first, next - first})
		}
	}

	if len(recordRows) > 0 {
		if _, err := tx.q.CopyFrom(tx.ctx, pgx.Identifier{"records"}, recordCopyColumns, pgx.CopyFromRows(recordRows)); err != nil {
			return nil, err
		}
		if err := log.save(tx); err != nil {
			return nil, err
		}
	}
	if len(keyRows) > 0 {
		if _, err := tx.q.CopyFrom(tx.ctx, pgx.Identifier{"idempotency"}, []string{"account_id", "key", "fingerprint", "first_seq", "count"},
			pgx.CopyFromRows(keyRows)); err != nil {
			return nil, err
		}
	}
	if next != start {
		if _, err := tx.exec(`UPDATE accounts SET next_seq = $1, tree_size = $2, tree_hashes = $3 WHERE id = $4`,
			next, int64(log.tree.Size()), log.packed(), accountID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

var recordCopyColumns = []string{"account_id", "seq", "id", "change_id", "object_type", "object_id", "object_name", "action_type",
	"element", "old_value", "new_value", "date", "originator_id", "originator_name", "originator", "automatic", "received_at",
	"source", "search_text"}

// findIdempotencyKeys returns what the idempotency keys of entries stand
// for, of those stored before. The caller holds the account's lock, so no
// other transaction stores a key of the account meanwhile.
func findIdempotencyKeys(tx *txn, accountID string, entries []audittrail.Entry) (map[string]*idempotent, error) {
	keys := map[string]*idempotent{}
	var wanted []string
	for _, e := range entries {
		if e.IdempotencyKey != "" {
			wanted = append(wanted, e.IdempotencyKey)
		}
	}
	if len(wanted) == 0 {
		return keys, nil
	}
	rows, err := tx.query(`SELECT key, fingerprint, first_seq, count FROM idempotency WHERE account_id = $1 AND key = ANY($2)`, accountID, wanted)
	if err != nil {
		return nil, err
	}
	var key string
	var k idempotent
	_, err = pgx.ForEachRow(rows, []any{&key, &k.fingerprint, &k.first, &k.count}, func() error {
		c := k
		keys[key] = &c
		return nil
	})
	return keys, err
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

// recordsBySeq returns the stored records of the account whose seqs are in
// [from, to), in seq order.
func recordsBySeq(tx *txn, accountID string, from, to int64) ([]*audittrail.Record, error) {
	rows, err := tx.query(`SELECT `+recordColumns+` FROM records WHERE account_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq`,
		accountID, from, to)
	if err != nil {
		return nil, err
	}
	rs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*audittrail.Record, error) { return scanRecord(row) })
	if rs == nil {
		rs = []*audittrail.Record{}
	}
	return rs, err
}
